"""Request counts, rejections and the ``/predict`` latency histogram, as Prometheus text or JSON."""

from __future__ import annotations

import threading
import time

# the status a request gets in /metrics when its client disconnects before the body is read
# (nginx's 499 "client closed request"); the client never sees it
CLIENT_CLOSED = 499
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Metrics:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.rows = 0
        self.rejected: dict[str, int] = {}
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.started = time.time()

    def observe(self, path: str, status: int, seconds: float, rows: int = 0) -> None:
        with self.lock:
            self.requests[(path, status)] = self.requests.get((path, status), 0) + 1
            self.rows += rows
            if path == "/predict":
                self.latency_sum += seconds
                self.latency_count += 1
                i = next((i for i, b in enumerate(_LATENCY_BUCKETS) if seconds <= b), len(_LATENCY_BUCKETS))
                self.buckets[i] += 1

    def reject(self, reason: str) -> None:
        with self.lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def prometheus(self, in_flight: int) -> str:
        lines = ["# HELP modelworks_requests_total Requests answered, by path and status "
                 f"({CLIENT_CLOSED}: the client closed the connection first).",
                 "# TYPE modelworks_requests_total counter"]
        with self.lock:
            for (path, status), n in sorted(self.requests.items()):
                lines.append(f'modelworks_requests_total{{path="{path}",status="{status}"}} {n}')
            lines += ["# TYPE modelworks_rows_predicted_total counter", f"modelworks_rows_predicted_total {self.rows}",
                      "# TYPE modelworks_rejected_total counter"]
            for reason, n in sorted(self.rejected.items()):
                lines.append(f'modelworks_rejected_total{{reason="{reason}"}} {n}')
            lines += ["# TYPE modelworks_in_flight gauge", f"modelworks_in_flight {in_flight}",
                      "# TYPE modelworks_predict_seconds histogram"]
            cum = 0
            for b, n in zip(_LATENCY_BUCKETS, self.buckets):
                cum += n
                lines.append(f'modelworks_predict_seconds_bucket{{le="{b}"}} {cum}')
            lines.append(f'modelworks_predict_seconds_bucket{{le="+Inf"}} {cum + self.buckets[-1]}')
            lines += [f"modelworks_predict_seconds_sum {self.latency_sum:.6f}",
                      f"modelworks_predict_seconds_count {self.latency_count}",
                      "# TYPE modelworks_uptime_seconds gauge",
                      f"modelworks_uptime_seconds {time.time() - self.started:.1f}"]
        return "\n".join(lines) + "\n"

    def as_dict(self, in_flight: int) -> dict:
        with self.lock:
            return {"requests": {f"{p} {s}": n for (p, s), n in sorted(self.requests.items())},
                    "rows_predicted": self.rows, "rejected": dict(self.rejected), "in_flight": in_flight,
                    "predict_latency_mean_s": self.latency_sum / self.latency_count if self.latency_count else None,
                    "uptime_s": round(time.time() - self.started, 1)}
