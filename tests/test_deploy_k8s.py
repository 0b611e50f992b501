"""The Kubernetes manifests of the tool service (mock_apis/k8s): valid against the Kubernetes schemas
(with kubernetes-validate, which bundles them: no cluster, no network), and they keep the
container's hardening, the readiness probe on /health, the token from a Secret and session
affinity."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

MANIFESTS = sorted((Path(__file__).resolve().parents[1] / "mock_apis" / "k8s").glob("*.yaml"))


def resources() -> dict[str, dict]:
    return {doc["kind"]: doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc}


def test_the_manifests_pass_the_kubernetes_schemas_strictly():
    try:
        import kubernetes_validate
    except ImportError:
        pytest.skip("SKIPPED LOUDLY: kubernetes-validate is not installed (pip install kubernetes-validate); "
                    ".ci/scale-out installs it and validates the manifests")
    assert {p.name for p in MANIFESTS} >= {"deployment.yaml", "service.yaml", "networkpolicy.yaml"}
    for doc in resources().values():
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    broken = resources()["Deployment"]
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a typo is caught
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_the_deployment_keeps_the_containers_hardening_and_probes_health():
    pod = resources()["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    for container in pod["initContainers"] + pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
        assert context["capabilities"]["drop"] == ["ALL"] and "add" not in context["capabilities"]
        assert container["resources"]["limits"]["memory"] == "1Gi"
        assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data", "/tmp"}
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"] == {"medium": "Memory", "sizeLimit": "64Mi"}
    api = pod["containers"][0]
    assert next(m for m in api["volumeMounts"] if m["mountPath"] == "/data")["readOnly"] is True
    assert api["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    token = next(e for e in api["env"] if e["name"] == "ADVISORGYM_API_TOKEN")
    assert set(token) == {"name", "valueFrom"} and "secretKeyRef" in token["valueFrom"]  # never a literal


def test_the_service_pins_a_client_to_one_pod_for_the_session_ttl():
    service = resources()["Service"]["spec"]
    assert service["sessionAffinity"] == "ClientIP"
    assert service["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] == 900  # `serve --session-ttl` default
    deployment = resources()["Deployment"]
    assert service["selector"] == deployment["spec"]["selector"]["matchLabels"]
    policy = resources()["NetworkPolicy"]["spec"]
    assert policy["podSelector"]["matchLabels"] == service["selector"] and policy["egress"] == []
