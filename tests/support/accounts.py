#!/usr/bin/env python3
"""Accounts in one moto for the --profile tests (boto3, independent of cruddur).
moto serves a request in the account its access key belongs to, and lets a client
name the account with the x-moto-account-id header; this makes a user and an access
key inside a given account, and reads an account's task-definition families back.

usage: accounts.py keys ACCOUNT | families ACCOUNT REGION
Reads AWS_ENDPOINT_URL from the environment."""
import json
import sys

import boto3


def client(name, account, region="us-east-1"):
    c = boto3.client(name, region_name=region)

    def in_account(request, **_):
        request.headers["x-moto-account-id"] = account

    c.meta.events.register("before-sign.*.*", in_account)
    return c


def keys(account):
    iam = client("iam", account)
    iam.create_user(UserName="deployer")
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    print(json.dumps({"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}))


def families(account, region):
    # Sorted: the two families are registered concurrently, so moto lists them in either order.
    print(json.dumps(sorted(client("ecs", account, region).list_task_definition_families()["families"])))


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"keys": keys, "families": families}[cmd](*args)
