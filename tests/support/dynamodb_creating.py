"""A behaviour of the proxy: a new DynamoDB table is CREATING for a while before it
takes reads and writes. moto 5 makes a table ACTIVE at once.

Enabled by an entry {"behaviour": "dynamodb-creating", "creating_seconds": S} in the
rules file. What real AWS does, and the sources:
  - "CreateTable is an asynchronous operation. Upon receiving a CreateTable request,
    DynamoDB immediately returns a response with a TableStatus of CREATING. After the
    table is created, DynamoDB sets the TableStatus to ACTIVE. You can perform read
    and write operations only on an ACTIVE table." (DynamoDB API reference,
    CreateTable);
  - meanwhile item calls answer ResourceNotFoundException: "The operation tried to
    access a nonexistent table or index. The resource might not be specified
    correctly, or its status might not be ACTIVE." (API reference, PutItem/GetItem
    errors);
  - a second CreateTable of the same name answers ResourceInUseException (moto does).
"""

import json
import threading
import time

ITEM_CALLS = ("PutItem", "GetItem", "UpdateItem", "DeleteItem")


class DynamodbCreating:
    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}
        self.seconds = 2.0

    def configure(self, entry):
        self.seconds = float(entry.get("creating_seconds", 2))

    def _creating(self, table):
        at = self.created.get(table)
        return at is not None and time.monotonic() - at < self.seconds

    def before(self, service, operation, text):
        """An AWS error (status, code, message) that answers this call, or None."""
        if service != "dynamodb" or operation not in ITEM_CALLS:
            return None
        table = json.loads(text or "{}").get("TableName")
        with self.lock:
            if self._creating(table):
                return (400, "ResourceNotFoundException",
                        "Requested resource not found: the table's status might not be ACTIVE")
        return None

    def after(self, service, operation, text, status, data):
        """moto's answer, with the table CREATING while it is."""
        if service != "dynamodb" or status != 200 or operation not in ("CreateTable", "DescribeTable"):
            return data
        table = json.loads(text or "{}").get("TableName")
        with self.lock:
            if operation == "CreateTable":
                self.created[table] = time.monotonic()
            if not self._creating(table):
                return data
        body = json.loads(data)
        for key in ("TableDescription", "Table"):
            if key in body:
                body[key]["TableStatus"] = "CREATING"
        return json.dumps(body).encode()
