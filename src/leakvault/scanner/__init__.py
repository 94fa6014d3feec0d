"""The scanner pipeline: sources -> prefilter -> detect -> filters -> findings -> reports."""
