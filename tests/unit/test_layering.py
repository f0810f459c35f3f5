"""The layering the design promises, checked: the domain core imports nothing from AWS or the
store, and only the store imports PynamoDB."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "functions" / "accessflow"
AWS = ("boto3", "botocore", "pynamodb", "aws_lambda_powertools", "moto")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_is_pure() -> None:
    for path in (PKG / "domain").glob("*.py"):
        bad = {n for n in imports_of(path) if n.startswith(AWS) or n.startswith("accessflow.store")}
        assert not bad, f"{path.name} imports {bad}"


def test_only_the_store_touches_dynamodb() -> None:
    for path in PKG.rglob("*.py"):
        if "store" in path.parts:
            continue
        bad = {n for n in imports_of(path) if n.startswith("pynamodb")}
        assert not bad, f"{path.relative_to(PKG)} imports {bad}"
        assert "dynamodb" not in path.read_text().replace("DynamoDB", ""), f"{path} names dynamodb"
