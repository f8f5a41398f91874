"""``vpp ven``: our VPP as an OpenADR 2.0b VEN of a grid company's VTN (vpp/openadr.py)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError

from vpp.openadr import Gateway, VenConfig, run_gateway

ven_app = typer.Typer(no_args_is_help=True, help="OpenADR: take part in a VTN's DR events.")


def load_config(path: Path) -> VenConfig:
    """Read a gateway file.

    Raises
    ------
    typer.BadParameter
        Missing file or a field that breaks the format (named).
    """
    if not path.exists():
        raise typer.BadParameter(f"{path}: file does not exist")
    try:
        return VenConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise typer.BadParameter(f"{path}: {exc}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise typer.BadParameter(f"{path}: {where}: {err['msg']}") from exc


@ven_app.command("run")
def run(
    config: Annotated[
        Path, typer.Argument(help="The gateway file (VTN URL, VEN name, VPP id, terms).")
    ],
    verbose: Annotated[bool, typer.Option(help="Log every OpenADR message.")] = False,
) -> None:
    """Register with the VTN, poll it, post its events to the service as DR events of the VPP,
    answer optIn/optOut, and report the delivered load. Needs VPP_VEN_CLIENT_ID and
    VPP_VEN_CLIENT_SECRET: a grid-role client of the service (`vpp credentials create --role
    grid --organisation <the VTN's operator>`)."""
    cfg = load_config(config)
    client_id = os.environ.get("VPP_VEN_CLIENT_ID")
    secret = os.environ.get("VPP_VEN_CLIENT_SECRET")
    if not client_id or not secret:
        raise typer.BadParameter(
            "set VPP_VEN_CLIENT_ID and VPP_VEN_CLIENT_SECRET (a grid-role client of the service)"
        )
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    try:
        asyncio.run(run_gateway(Gateway(cfg, client_id, secret)))
    except KeyboardInterrupt:
        typer.echo("stopped")
