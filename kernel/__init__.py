"""The small kernel every Manabi module shares: the store, the clock, the actor
and its roles, the error types, the message catalogue and the module contract.

It imports no domain module, so that modules can depend on it and never on
each other (../shared/DESIGN.md, "The house").
"""
