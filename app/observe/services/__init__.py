"""Observed stations' business rules: who may rate, ratings, patients' links, statistics, results."""
