"""The pure rules engine: no I/O, no database, no framework; only policy types from Tuodi."""
from tuodi.engine.model import Claim, Identity, Person, Settlement, Step
from tuodi.engine.settle import Notes, SettleResult, settle, settle_person, settlement_order

__all__ = ["Claim", "Identity", "Person", "Settlement", "Step", "Notes", "SettleResult", "settle",
           "settle_person", "settlement_order"]
