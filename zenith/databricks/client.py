"""The Databricks workspace client, and its errors as one-line messages.

Everything goes through the official databricks-sdk, which finds credentials in its standard
places: DATABRICKS_HOST and DATABRICKS_TOKEN, or a profile in ~/.databrickscfg. The SDK takes a
second to import, so it is imported inside functions and ``zenith --help`` never pays for it.
Every public function takes a ``WorkspaceClient``, so tests can hand it a client of their own.
Deploying the job and running it live in ``zenith.databricks.job``, which imports this module, so the
commands below import it where they use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from zenith.lakehouse.errors import ZenithError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient


# The SDK's default is five minutes of retries, which is how long a mistyped host would hang.
RETRY_TIMEOUT_SECONDS = 30
AUTH_HELP = (
    "set DATABRICKS_HOST and DATABRICKS_TOKEN, or pass --profile NAME to use a profile in ~/.databrickscfg"
)


def workspace_client(profile: str | None = None) -> WorkspaceClient:
    """A client authenticated from the environment or, with ``profile``, from ~/.databrickscfg."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    from zenith import __version__

    try:
        config = Config(
            profile=profile,
            retry_timeout_seconds=RETRY_TIMEOUT_SECONDS,
            product="zenith-online",
            product_version=__version__,
        )
    except ValueError:
        if profile:
            raise ZenithError(
                f"profile {profile!r} in ~/.databrickscfg has no usable host and token"
            ) from None
        raise ZenithError(f"no usable Databricks credentials found: {AUTH_HELP}") from None
    return WorkspaceClient(config=config)


@contextmanager
def calling(w: WorkspaceClient, action: str, needs: str | None = None) -> Iterator[None]:
    """Turn the SDK's errors while doing ``action`` into a one-line ZenithError.

    ``needs`` names the privileges that ``action`` requires, for the message on a 403.
    """
    from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, Unauthenticated

    try:
        yield
    except Unauthenticated:
        raise ZenithError(f"authentication failed at {w.config.host}: {AUTH_HELP}") from None
    except PermissionDenied as exc:
        hint = f": you need {needs}" if needs else ""
        said = one_line(exc).removesuffix(one_line(w.config.debug_string())).rstrip(" .")
        raise ZenithError(f"permission denied {action}{hint} (Databricks said: {said}.)") from None
    except NotFound as exc:
        raise ZenithError(f"not found while {action}: {one_line(exc)}") from None
    except DatabricksError as exc:
        raise ZenithError(f"error {action}: {one_line(exc)}") from None
    except TimeoutError as exc:
        raise ZenithError(f"cannot reach {w.config.host} while {action} ({exc}): check the host") from None


def one_line(text: object) -> str:
    """``text`` as a string on one line, each run of whitespace made a single space."""
    return " ".join(str(text).split())
