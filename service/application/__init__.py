"""Use cases: the one API the CLI, the worker, the web app and the Gherkin steps all call."""
