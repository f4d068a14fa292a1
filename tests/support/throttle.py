"""A behaviour of the proxy: AWS's per-account request rates, as token buckets.
moto answers every call, however many arrive at once.

Enabled by an entry {"behaviour": "throttle", "buckets": [BUCKET, ...]} in the
rules file, where a BUCKET is {"service": signing name, "prefix": the operations
it counts, by the start of their name ("" for all), "capacity": N, "refill": N a
second}. A call takes a token from the first bucket that matches it; with none
left it is answered 400 ThrottlingException "Rate exceeded" and takes no token.

What real AWS does, and the sources (paraphrased):
  - ELB throttles each account per Region with a token bucket; for API version 2,
    the non-mutating actions (Describe*) share a bucket of 40 tokens refilled at
    10 tokens a second, and a call over the limit gets the ThrottlingException
    error code and the message "Rate exceeded" (Elastic Load Balancing user
    guide, "Request throttling for the ELB API",
    docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html).
  - ECS throttles each account per Region with token buckets per group of actions
    (its example: cluster reads such as DescribeClusters, a bucket of 50 tokens),
    and answers ThrottlingException "Rate exceeded" (Amazon ECS API reference,
    "Request throttling for the Amazon ECS API",
    docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html).
    The other groups' sizes and refill rates are in that page's table, which
    could not be read from this machine: bin/bench scale applies only ELB's.
"""

import threading
import time


class Bucket:
    def __init__(self, entry):
        self.service = entry["service"]
        self.prefix = entry.get("prefix", "")
        self.capacity = float(entry["capacity"])
        self.refill = float(entry["refill"])
        self.tokens = self.capacity
        self.at = time.monotonic()

    def matches(self, service, operation):
        return service == self.service and operation.startswith(self.prefix)

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.refill)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Throttle:
    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = []

    def configure(self, entry):
        with self.lock:
            self.buckets = [Bucket(b) for b in entry.get("buckets", [])]

    def before(self, service, operation, _text):
        """An AWS error (status, code, message) that answers this call, or None."""
        with self.lock:
            for bucket in self.buckets:
                if bucket.matches(service, operation):
                    return None if bucket.take() else (400, "ThrottlingException", "Rate exceeded")
        return None
