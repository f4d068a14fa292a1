"""Pages for the behaviour proxy (aws_server.py): list and describe calls answered
a few items at a time, as real AWS answers them, so that every paging loop of the
client is proven. moto answers most of these calls in one piece (ListTasks and
DescribeSubnets ignore maxResults/MaxResults; FilterLogEvents pages only past 10,000
events), so the proxy pages moto's whole answer itself.

A rule {"operation": "ListTasks", "page_size": 1, "always": true} (plus the usual
"service", "body_contains", "first"/"every") makes the proxy:
  1. drop the page token and the page-size parameter from the request and forward
     the rest to moto, which answers with every item;
  2. answer `page_size` items from the offset the token names, with a token of its
     own (`pxpage.<offset>.<phase>`) when more items are left.
The token is stateless: moto's order is stable, so the next request, forwarded
again without the token, gets the same list and the next slice of it. A token the
proxy did not make is refused as AWS refuses a bad one.

"empty_pages": true answers an empty page that carries a token before every page
with items (and once when there is no item at all): FilterLogEvents "can return
empty results while there are more log events available through the token" (its
API reference, below), so a client must page until there is no token.

PAGED is the catalogue: for each call, the protocol, the list element, the request's
token and page-size names, the answer's token name, the code AWS gives for a bad
token, and the public API reference that documents the paging.
"""

import json
import urllib.parse
import xml.etree.ElementTree as ET

EC2_DOC = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_{}.html"
ECS_DOC = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_{}.html"
LOGS_DOC = "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_{}.html"
ELB_DOC = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_{}.html"


def _json(items, size, source, token="nextToken"):
    return {"protocol": "json", "items": items, "token_in": token, "token_out": token, "size_in": size,
            "bad_token": "InvalidParameterException", "source": source}


def _ec2(items, source):
    # EC2's query protocol: NextToken in the request, <nextToken> beside the list in the answer.
    return {"protocol": "xml", "items": items, "token_in": "NextToken", "token_out": "nextToken",
            "size_in": "MaxResults", "bad_token": "InvalidPaginationToken", "source": source}


def _elb(items, source):
    # ELBv2: Marker in, <NextMarker> beside the list inside <...Result>; PageSize 1-400.
    return {"protocol": "xml", "items": items, "token_in": "Marker", "token_out": "NextMarker",
            "size_in": "PageSize", "bad_token": "ValidationError", "source": source}


PAGED = {
    # maxResults 1-100; without it ListTasks returns up to 100 task ARNs and a nextToken.
    ("ecs", "ListTasks"): _json("taskArns", "maxResults", ECS_DOC.format("ListTasks")),
    # maxResults 1-100; without it ListServices returns up to 10 services and a nextToken.
    ("ecs", "ListServices"): _json("serviceArns", "maxResults", ECS_DOC.format("ListServices")),
    ("ecs", "ListTaskDefinitions"): _json("taskDefinitionArns", "maxResults", ECS_DOC.format("ListTaskDefinitions")),
    # Up to 1 MB or 10,000 events a page, and "can return empty results while there are
    # more log events available through the token"; "If the results don't include a
    # nextToken, then pagination is finished."
    ("logs", "FilterLogEvents"): _json("events", "limit", LOGS_DOC.format("FilterLogEvents")),
    ("logs", "DescribeLogGroups"): _json("logGroups", "limit", LOGS_DOC.format("DescribeLogGroups")),
    # EC2 describes: MaxResults 5-1000 with NextToken; "This value is null when there are
    # no more items to return." (Without MaxResults EC2 may answer everything at once;
    # the paginator follows nextToken either way, and pages of one prove it does.)
    ("ec2", "DescribeSubnets"): _ec2("subnetSet", EC2_DOC.format("DescribeSubnets")),
    ("ec2", "DescribeSecurityGroups"): _ec2("securityGroupInfo", EC2_DOC.format("DescribeSecurityGroups")),
    ("ec2", "DescribeSecurityGroupRules"): _ec2("securityGroupRuleSet", EC2_DOC.format("DescribeSecurityGroupRules")),
    ("ec2", "DescribeVpcs"): _ec2("vpcSet", EC2_DOC.format("DescribeVpcs")),
    ("elasticloadbalancing", "DescribeRules"): _elb("Rules", ELB_DOC.format("DescribeRules")),
    ("elasticloadbalancing", "DescribeListeners"): _elb("Listeners", ELB_DOC.format("DescribeListeners")),
    ("elasticloadbalancing", "DescribeTargetGroups"): _elb("TargetGroups", ELB_DOC.format("DescribeTargetGroups")),
    ("elasticloadbalancing", "DescribeLoadBalancers"): _elb("LoadBalancers", ELB_DOC.format("DescribeLoadBalancers")),
}


class PagingError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _token(offset, phase):
    return f"pxpage.{offset}.{phase}"


def _parse_token(bad_token, token):
    """(offset, phase) from one of our tokens; no token is the first page."""
    if token is None:
        return 0, 0
    parts = str(token).split(".")
    if len(parts) == 3 and parts[0] == "pxpage" and parts[1].isdigit() and parts[2] in ("0", "1"):
        return int(parts[1]), int(parts[2])
    raise PagingError(400, bad_token, f"The pagination token {token} is invalid.")


def page_of(items, token, size, empty_pages=False, bad_token="InvalidParameterException"):
    """One page of a whole list, for a stand-in that builds the list itself (fake_ecs.py):
    (the page's items, the next token or None)."""
    offset, phase = _parse_token(bad_token, token)
    start, end, next_token = _window(len(items), offset, phase, size, empty_pages)
    return items[start:end], next_token


def _strip_request(spec, body):
    """The request without the token and the page size, and the token it carried."""
    if spec["protocol"] == "json":
        request = json.loads(body or "{}")
        token = request.pop(spec["token_in"], None)
        request.pop(spec["size_in"], None)
        return json.dumps(request).encode(), token
    pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
    token = next((v for k, v in pairs if k == spec["token_in"]), None)
    kept = [(k, v) for k, v in pairs if k not in (spec["token_in"], spec["size_in"])]
    return urllib.parse.urlencode(kept).encode(), token


def _window(count, offset, phase, size, empty_pages):
    """(start, end, next_token or None) of the page to answer."""
    if empty_pages and phase == 0:
        # An empty page first; the items at this offset come with the next request.
        more = offset < count or offset == 0
        return offset, offset, _token(offset, 1) if more else None
    end = min(offset + size, count)
    return offset, end, _token(end, 0) if end < count else None


def _page_json(spec, data, offset, phase, size, empty_pages):
    answer = json.loads(data or b"{}")
    if answer.get(spec["token_out"]):
        raise PagingError(500, "ProxyPagingError", "moto paged this answer itself: the proxy cannot page it")
    items = answer.get(spec["items"]) or []
    start, end, token = _window(len(items), offset, phase, size, empty_pages)
    answer[spec["items"]] = items[start:end]
    answer.pop(spec["token_out"], None)
    if token:
        answer[spec["token_out"]] = token
    return json.dumps(answer).encode()


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _page_xml(spec, data, offset, phase, size, empty_pages):
    root = ET.fromstring(data)
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else None
    found = None
    for parent in root.iter():
        for child in list(parent):
            if _local(child.tag) == spec["token_out"]:
                if (child.text or "").strip():
                    raise PagingError(500, "ProxyPagingError", "moto paged this answer itself: the proxy cannot page it")
                parent.remove(child)
            elif found is None and _local(child.tag) == spec["items"]:
                found = (parent, child)
    if found is None:
        raise PagingError(500, "ProxyPagingError", f"no <{spec['items']}> in moto's answer")
    parent, listing = found
    items = list(listing)
    start, end, token = _window(len(items), offset, phase, size, empty_pages)
    for i, item in enumerate(items):
        if not start <= i < end:
            listing.remove(item)
    if token:
        element = ET.SubElement(parent, f"{{{namespace}}}{spec['token_out']}" if namespace else spec["token_out"])
        element.text = token
    body = ET.tostring(root, encoding="unicode", default_namespace=namespace)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


def answer(rule, service, operation, body, forward):
    """The paged answer to one request: (status, headers, data). `forward(body)` sends
    a request body to moto and returns its (status, headers, data)."""
    spec = PAGED.get((service, operation))
    if spec is None:
        raise PagingError(500, "ProxyPagingError", f"{service}:{operation} is not in paging.PAGED")
    stripped, token = _strip_request(spec, body)
    offset, phase = _parse_token(spec["bad_token"], token)
    status, headers, data = forward(stripped)
    if status != 200:
        return status, headers, data
    size = int(rule["page_size"])
    empty_pages = bool(rule.get("empty_pages"))
    if spec["protocol"] == "json":
        data = _page_json(spec, data, offset, phase, size, empty_pages)
    else:
        data = _page_xml(spec, data, offset, phase, size, empty_pages)
    return status, headers, data
