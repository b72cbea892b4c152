"""The daily API request allocation and the ``Sforce-Limit-Info`` header.

Every REST call made with a session counts one request against a rolling 24-hour
allocation (``daily_api_limit``). Once it is spent, calls are refused with 403
``REQUEST_LIMIT_EXCEEDED`` until the window rolls over. OAuth and streaming (CometD)
calls do not count, as in Salesforce.
"""

from __future__ import annotations

import time
from typing import Any

WINDOW_S = 24 * 3600


class ApiUsage:
    def __init__(self, daily_limit: int) -> None:
        self.limit = daily_limit
        self.used = 0
        self.window_start = time.time()

    def _roll(self) -> None:
        now = time.time()
        if now - self.window_start >= WINDOW_S:
            self.used, self.window_start = 0, now

    def admit(self) -> bool:
        """Count one request; False (and not counted) when the allocation is spent."""
        self._roll()
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def header(self) -> str:
        return f"api-usage={self.used}/{self.limit}"

    def limits(self, cdc_delivered: int) -> dict[str, Any]:
        """The body of ``GET /limits``."""
        self._roll()

        def entry(maximum: int, used: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": max(0, maximum - used)}

        return {
            "ConcurrentAsyncGetReportInstances": entry(200, 0),
            "ConcurrentSyncReportRuns": entry(20, 0),
            "DailyApiRequests": entry(self.limit, self.used),
            "DailyAsyncApexExecutions": entry(250000, 0),
            "DailyBulkApiBatches": entry(15000, 0),
            "DailyBulkV2QueryJobs": entry(10000, 0),
            "DailyDeliveredPlatformEvents": entry(50000, cdc_delivered),
            "DailyStreamingApiEvents": entry(1000000, cdc_delivered),
            "DataStorageMB": entry(5120, 0),
            "FileStorageMB": entry(20480, 0),
            "HourlyPublishedStandardVolumePlatformEvents": entry(250000, 0),
            "MonthlyPlatformEventsUsageEntitlement": entry(1500000, cdc_delivered),
            "SingleEmail": entry(5000, 0),
        }

    def dump(self) -> dict[str, Any]:
        return {"used": self.used, "window_start": self.window_start, "limit": self.limit}

    def load(self, data: dict[str, Any]) -> None:
        self.used = int(data.get("used", 0))
        self.window_start = float(data.get("window_start", time.time()))
