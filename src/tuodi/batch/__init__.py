"""Batch settlement (批量结算): synthetic populations and the columnar settlement path."""
