"""What the proxy's ECS behaviours share: names from ARNs, the service a
CreateService or UpdateService names, and the services in an answer."""


def name_of(ref):
    """A cluster or service name from a name or an ARN."""
    return (ref or "").rsplit("/", 1)[-1]


def service_key(operation, request):
    """(cluster, service) that a CreateService or UpdateService request names."""
    cluster = name_of(request.get("cluster") or "default")
    if operation == "CreateService":
        return (cluster, request.get("serviceName"))
    return (cluster, name_of(request.get("service")))


def services_in(body):
    """The service objects of a DescribeServices, CreateService or UpdateService answer."""
    return body.get("services", []) + ([body["service"]] if "service" in body else [])


def key_of(svc):
    """(cluster, service) of a service object in an answer."""
    return (name_of(svc.get("clusterArn")), svc.get("serviceName"))
