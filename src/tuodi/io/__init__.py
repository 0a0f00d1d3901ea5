"""File formats of the contract (CSV and Parquet): reading with row-level refusals, atomic writing."""
from tuodi.io.tables import (InputError, read_claims, read_identities, read_persons, read_stats,
                             read_table)
from tuodi.io.settlements import read_settlements
from tuodi.io.write import SETTLEMENT_COLUMNS, settlement_row, write_rows, write_settlements

__all__ = ["InputError", "read_claims", "read_identities", "read_persons", "read_stats", "read_table",
           "read_settlements", "SETTLEMENT_COLUMNS", "settlement_row", "write_rows", "write_settlements"]
