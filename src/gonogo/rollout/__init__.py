"""Staged rollouts: plan, controller, routers, deployers, metric sources and the analysis."""
