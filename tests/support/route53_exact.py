"""A behaviour of the proxy: Route 53's rules for DELETE, which moto 5 checks only
in part (it compares a value record's TTL and values with any earlier insert, and
an alias not at all).

Enabled by an entry {"behaviour": "route53-exact"} in the rules file. Real Route 53
(ChangeResourceRecordSets API reference, "DELETE"; "InvalidChangeBatch"):
  - a DELETE must carry exactly the live record's values: the TTL and records of a
    value record, the alias target's DNSName, HostedZoneId and
    EvaluateTargetHealth; otherwise InvalidChangeBatch "Tried to delete resource
    record set [name='...', type='...'] but the values provided do not match the
    current values";
  - deleting a record that does not exist: InvalidChangeBatch "Tried to delete
    resource record set [name='...', type='...'] but it was not found";
  - a change batch is applied all or nothing: one bad change fails the whole batch.
"""

import re
import xml.etree.ElementTree as ET

NS = "{https://route53.amazonaws.com/doc/2013-04-01/}"
RRSET_PATH = re.compile(r"^/2013-04-01/hostedzone/([^/]+)/rrset/?$")


def _text(node, path):
    found = node.find(path)
    return None if found is None or found.text is None else found.text.strip()


def _absolute(name):
    name = (name or "").lower()
    return name if name.endswith(".") else name + "."


def _record(node):
    """A record set as comparable values."""
    alias = node.find(f"{NS}AliasTarget")
    values = sorted(_text(v, f"{NS}Value") for v in node.findall(f"{NS}ResourceRecords/{NS}ResourceRecord"))
    return {
        "ttl": _text(node, f"{NS}TTL"),
        "values": values,
        "alias": None if alias is None else (
            _absolute(_text(alias, f"{NS}DNSName")),
            _text(alias, f"{NS}HostedZoneId"),
            (_text(alias, f"{NS}EvaluateTargetHealth") or "false").lower(),
        ),
    }


class Route53Exact:
    def configure(self, entry):
        pass

    def before(self, method, path, text, fetch):
        """An AWS error (status, code, message) that answers this call, or None."""
        match = RRSET_PATH.match(path.split("?", 1)[0])
        if method != "POST" or not match:
            return None
        zone = match.group(1)
        request = ET.fromstring(text)
        for change in request.iter(f"{NS}Change"):
            if _text(change, f"{NS}Action") != "DELETE":
                continue
            rrset = change.find(f"{NS}ResourceRecordSet")
            name, kind = _absolute(_text(rrset, f"{NS}Name")), _text(rrset, f"{NS}Type")
            status, body = fetch("GET", f"/2013-04-01/hostedzone/{zone}/rrset?name={name}&type={kind}&maxitems=1")
            live = None
            if status == 200:
                for found in ET.fromstring(body).iter(f"{NS}ResourceRecordSet"):
                    if _absolute(_text(found, f"{NS}Name")) == name and _text(found, f"{NS}Type") == kind:
                        live = found
            where = f"[name='{name}', type='{kind}']"
            if live is None:
                return 400, "InvalidChangeBatch", f"[Tried to delete resource record set {where} but it was not found]"
            if _record(live) != _record(rrset):
                return 400, "InvalidChangeBatch", (
                    f"[Tried to delete resource record set {where} but the values provided do not match the current values]"
                )
        return None
