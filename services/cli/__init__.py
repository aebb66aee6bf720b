"""The `pathways` command line: a thin client of the commands and queries."""
