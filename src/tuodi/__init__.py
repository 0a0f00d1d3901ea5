"""Tuodi (托底): the backstop of China's three-tier medical protection (三重制度)."""
__version__ = "0.1.0"
