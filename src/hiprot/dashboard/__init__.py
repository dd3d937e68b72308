"""The live web dashboard: a self-contained page served by ``hiprot dashboard``."""

from hiprot.dashboard.server import DashboardServer, dashboard_settings

__all__ = ["DashboardServer", "dashboard_settings"]
