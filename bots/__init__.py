"""Scripted chat bots driven by YAML dialogue files."""
