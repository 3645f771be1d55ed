"""Tables of transfer-service beside their API schemas, one module per part of the domain.

Choice-like columns are plain strings in the database (no native enum types to migrate when a
state is added); the API schemas restrict them with `StrEnum`s. Instants are `UtcDateTime`.
Everything is re-exported here: `from transfer_service.models import TransferJob`.
"""

from transfer_service.models.common import *  # noqa: F403
from transfer_service.models.dispatch import *  # noqa: F403
from transfer_service.models.fleet import *  # noqa: F403
from transfer_service.models.jobs import *  # noqa: F403
from transfer_service.models.money import *  # noqa: F403
from transfer_service.models.places import *  # noqa: F403
