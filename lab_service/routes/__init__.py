"""Lab HTTP endpoints: parse with a schema, call one service verb, return one schema."""

from lab_service.routes.catalogue import blp as catalogue_blp
from lab_service.routes.reports import blp as reports_blp
from lab_service.routes.runs import blp as runs_blp

BLUEPRINTS = (catalogue_blp, runs_blp, reports_blp)
