"""The demo export generator: a year of realistic Capantra exports with planted problems and their ground truth."""

from compliance.demo.generate import DemoSummary, default_truth_path, generate_demo

__all__ = ["DemoSummary", "default_truth_path", "generate_demo"]
