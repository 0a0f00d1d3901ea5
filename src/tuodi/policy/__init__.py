"""Policies as data (政策参数): the files, their schema, and the loader."""
from tuodi.policy.loader import JURISDICTIONS, PolicyError, available, load_policy
from tuodi.policy.policy import CATEGORY_BY_NAME, Policy, value_at
from tuodi.policy.schema import CATEGORIES, CATEGORY_NAMES, MED_TYPES, UNDEFINED

__all__ = ["JURISDICTIONS", "PolicyError", "available", "load_policy", "CATEGORY_BY_NAME", "Policy",
           "value_at", "CATEGORIES", "CATEGORY_NAMES", "MED_TYPES", "UNDEFINED"]
