"""Brands and brand deals: the pipeline, its legal transitions, deliverables."""
