"""Run the whole stack locally until Ctrl-C: ``python -m infra.serve`` (port: ACCESSFLOW_PORT, 3000),
with its OpenID Connect provider (port: ACCESSFLOW_IDP_PORT, 3001).

Everything lives in this process's memory (moto); e-mails land in ``.local/outbox/`` (ACCESSFLOW_OUTBOX).
An AWS-compatible endpoint on the same backends listens on ACCESSFLOW_AWS_PORT (4566; 0 = a free port).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading


def main() -> int:
    os.environ["TZ"] = "UTC"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s")
    from infra import oidc
    from infra.localstack import LocalStack

    port = int(os.environ.get("ACCESSFLOW_PORT", "3000"))
    aws_port = int(os.environ.get("ACCESSFLOW_AWS_PORT", "4566"))
    outbox = os.environ.get("ACCESSFLOW_OUTBOX") or None
    idp = oidc.provider(int(os.environ.get("ACCESSFLOW_IDP_PORT", oidc.DEFAULT_PORT)))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The e-mails' links point at this server (the template's PublicBaseUrl; deployed: your domain).
    public = os.environ.get("ACCESSFLOW_PUBLIC_URL") or f"http://127.0.0.1:{port}"
    with LocalStack(port=port, aws_port=aws_port, outbox_dir=outbox, parameters={"PublicBaseUrl": public}) as stack:
        print(f"AccessFlow local stack: {stack.api_url}")
        for line in stack.describe_aws_endpoint():
            print(line)
        print("Resources:")
        for line in stack.describe():
            print(line)
        print(f"Outbox: {stack.outbox_dir}")
        from infra.seed import seed_demo

        for line in seed_demo(stack).lines():
            print(line)
        print(f"Console: {stack.api_url}/console   (Sign in, then type the e-mail at the local IdP's form)")
        print(f"Sign-in: {idp.issuer} (OpenID Connect; type any e-mail address at its sign-in form)")
        print(f"Token:   accessflow dev-token you@example.com --idp-url {idp.issuer}"
              "   (then: Authorization: Bearer <token>)")
        print("Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
