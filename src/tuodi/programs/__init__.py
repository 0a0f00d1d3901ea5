"""Programs beside settlement: premium subsidies (资助参保), early warnings (双预警) and one-off
grants (一次性救助). Pure computations over the policy and the engine's results; no I/O."""
from tuodi.programs.common import ProgramNotes, identities_in_year, year_span
from tuodi.programs.grants import GrantDue, grants_for_year
from tuodi.programs.subsidy import SubsidyShare, subsidies_for_year
from tuodi.programs.warnings import Alert, evaluate_warnings

__all__ = ["ProgramNotes", "identities_in_year", "year_span", "GrantDue", "grants_for_year",
           "SubsidyShare", "subsidies_for_year", "Alert", "evaluate_warnings"]
