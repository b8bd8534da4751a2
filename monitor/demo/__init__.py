"""The live demo (``driftline demo``): a classifier served, drifting, and Driftline watching.

:mod:`~monitor.demo.scenario` draws the traffic, :mod:`~monitor.demo.training` fits the
model, :mod:`~monitor.demo.project_file` declares what is monitored,
:mod:`~monitor.demo.receiver` stands in for on-call and retraining,
:mod:`~monitor.demo.traffic` sends requests and labels, :mod:`~monitor.demo.run` ties them
to the real processes, and :mod:`~monitor.demo.view` shows it all in the terminal.
"""
