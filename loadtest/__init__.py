"""The load test (`make loadtest`): see loadtest/run.py and README.md, "Load test"."""
