"""Orientation and phase mapping: registered spots matched against template banks."""
