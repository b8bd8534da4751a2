"""Pure statistics over numpy arrays: drift tests, streaming detectors, metrics, health rules.

Empty until the detector issues land; imports numpy and scipy only, nothing of the project.
"""

from __future__ import annotations
