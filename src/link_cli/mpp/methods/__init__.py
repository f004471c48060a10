"""Payment methods spoken over MPP; one module each (only Stripe SPTs for now)."""
