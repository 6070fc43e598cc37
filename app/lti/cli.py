"""`alliance lti`: register platforms, print the tool's configuration, send grades, rotate the tool's key."""

import json
import sys

import click
from flask.cli import with_appcontext

from app.extensions import db


@click.group("lti")
def lti() -> None:
    """LTI 1.3: Alliance inside Moodle, Canvas, Blackboard or Brightspace (docs/lti.md)."""


@lti.group("platforms")
def platforms_group() -> None:
    """Register, list and remove learning platforms."""


@platforms_group.command("add")
@click.option("--name", help="A name people recognise [default: the issuer].")
@click.option("--issuer", required=True, help="The platform's issuer (platform ID), e.g. https://moodle.example.edu.")
@click.option("--client-id", required=True, help="The client ID the platform gave Alliance.")
@click.option("--deployment-id", "deployment_ids", required=True, multiple=True, help="A deployment ID (repeatable).")
@click.option("--auth-login-url", required=True, help="The platform's authentication request (OIDC auth) URL.")
@click.option("--auth-token-url", required=True, help="The platform's access token URL.")
@click.option("--keyset-url", required=True, help="The platform's public keyset URL.")
@click.option(
    "--auth-audience", default="", help="The token audience, when the platform wants another than its token URL."
)
@click.option(
    "--frame-origin", "frame_origins", multiple=True, help="Another origin that frames Alliance (repeatable)."
)
@with_appcontext
def platforms_add(
    name, issuer, client_id, deployment_ids, auth_login_url, auth_token_url, keyset_url, auth_audience, frame_origins
):
    """Register a platform; exits 1 with the reason if it cannot be saved."""
    from app.lti import platforms

    try:
        platform = platforms.add(
            platforms.NewPlatform(
                name=name or issuer,
                issuer=issuer,
                client_id=client_id,
                deployment_ids=deployment_ids,
                auth_login_url=auth_login_url,
                auth_token_url=auth_token_url,
                keyset_url=keyset_url,
                auth_audience=auth_audience,
                frame_origins=" ".join(frame_origins),
            )
        )
    except platforms.PlatformError as exc:
        db.session.rollback()
        click.echo(f"Not registered: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Registered platform {platform.id}: {platform.name} ({platform.issuer}, client {platform.client_id}).")


@platforms_group.command("list")
@with_appcontext
def platforms_list() -> None:
    """Every registered platform: id, name, issuer, client id, deployments, courses that came from it."""
    from app.lti import platforms

    found = platforms.all_platforms()
    if not found:
        click.echo("No platform is registered. Add one with `alliance lti platforms add`.")
    for platform, deployments, contexts in found:
        click.echo(
            f"{platform.id}\t{platform.name}\t{platform.issuer}\tclient {platform.client_id}\t"
            f"deployments {', '.join(deployments)}\t{contexts} course{'s' if contexts != 1 else ''}"
        )


@platforms_group.command("remove")
@click.argument("platform_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def platforms_remove(platform_id: int, yes: bool) -> None:
    """Unregister platform PLATFORM_ID: its launches are refused; its accounts and cohorts stay."""
    from app.lti import platforms

    platform = platforms.get(platform_id)
    if platform is None:
        click.echo(f"No platform has id {platform_id}; see `alliance lti platforms list`.", err=True)
        sys.exit(1)
    if not yes:
        click.confirm(
            f"Unregister {platform.name} ({platform.issuer})? Grades not yet sent to it are dropped", abort=True
        )
    platforms.remove(platform)
    db.session.commit()
    click.echo(f"Removed {platform.name}.")


@lti.command("config")
@with_appcontext
def config() -> None:
    """Print the tool's configuration (JSON) to paste into a platform."""
    from flask import current_app

    from app.lti.routes import configuration

    if not current_app.config.get("SITE_URL_IS_SET"):
        click.echo("Note: ALLIANCE_SITE_URL is not set, so these addresses use the placeholder.", err=True)
    click.echo(json.dumps(configuration(), indent=2))


@lti.command("send")
@with_appcontext
def send() -> None:
    """Send the grades waiting for platforms, once; exits 1 if some were left for a later try."""
    from app.lti import grades, tool

    summary = grades.send_due()
    tool.forget_expired()
    db.session.commit()
    click.echo(summary.line())
    if summary.failed:
        sys.exit(1)


@lti.command("rotate-key")
@with_appcontext
def rotate_key() -> None:
    """Make a new signing key; the old one stays in the key set until `alliance lti retire-key`."""
    from app.lti import keys

    kid = keys.rotate()
    click.echo(f"New key {kid} signs from now on; the previous key is still published. Retire it in a day or two.")


@lti.command("retire-key")
@with_appcontext
def retire_key() -> None:
    """Stop publishing the previous key (after a rotation, once platforms have fetched the new one)."""
    from app.lti import keys

    click.echo("The previous key is no longer published." if keys.retire_previous() else "There is no previous key.")
