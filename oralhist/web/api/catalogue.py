"""API: collections, people, interviews."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from ...access import current_viewer
from ...errors import ValidationError
from ...models import Collection
from ...services import catalogue
from . import bp
from .common import json_body, page_of
from .serialise import collection_json, interview_json, person_json


@bp.get("/collections")
def list_collections():
    return page_of(select(Collection).order_by(Collection.title, Collection.id), collection_json)


@bp.post("/collections")
def create_collection():
    collection = catalogue.save_collection(current_viewer(), json_body())
    return jsonify(collection_json(collection)), 201


@bp.get("/collections/<ident>")
def get_collection(ident: str):
    return jsonify(collection_json(catalogue.get_collection(ident)))


@bp.patch("/collections/<ident>")
def update_collection(ident: str):
    collection = catalogue.save_collection(
        current_viewer(), json_body(), catalogue.get_collection(ident)
    )
    return jsonify(collection_json(collection))


@bp.get("/people")
def list_people():
    q = request.args.get("q", "").strip()[:200]
    return page_of(catalogue.list_people(q, current_viewer()), person_json)


@bp.post("/people")
def create_person():
    person = catalogue.save_person(current_viewer(), json_body())
    return jsonify(person_json(person)), 201


@bp.get("/people/<int:person_id>")
def get_person(person_id: int):
    return jsonify(person_json(catalogue.get_person(person_id, current_viewer())))


@bp.patch("/people/<int:person_id>")
def update_person(person_id: int):
    viewer = current_viewer()
    person = catalogue.save_person(viewer, json_body(), catalogue.get_person(person_id, viewer))
    return jsonify(person_json(person))


@bp.get("/interviews")
def list_interviews():
    viewer = current_viewer()
    stmt, _ = catalogue.interview_query(viewer, request.args)
    return page_of(stmt, lambda i: interview_json(i, viewer))


@bp.post("/interviews")
def create_interview():
    viewer = current_viewer()
    interview = catalogue.save_interview(viewer, json_body())
    return jsonify(interview_json(interview, viewer)), 201


@bp.get("/interviews/<int:interview_id>")
def get_interview(interview_id: int):
    viewer = current_viewer()
    return jsonify(interview_json(catalogue.get_interview(interview_id, viewer), viewer))


@bp.patch("/interviews/<int:interview_id>")
def update_interview(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    catalogue.save_interview(viewer, json_body(), interview)
    return jsonify(interview_json(interview, viewer))


@bp.post("/interviews/<int:interview_id>/publish")
def publish_interview(interview_id: int):
    viewer = current_viewer()
    override = None
    if request.is_json:
        body = json_body()
        override = body.get("consent_override")
        if override is not None and not isinstance(override, str):
            raise ValidationError(
                "consent_override must be text (the reason to publish without consent).",
                fields={"consent_override": "must be text"},
            )
    interview = catalogue.publish(
        viewer, catalogue.get_interview(interview_id, viewer), consent_override=override
    )
    return jsonify(interview_json(interview, viewer))


@bp.post("/interviews/<int:interview_id>/unpublish")
def unpublish_interview(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.unpublish(viewer, catalogue.get_interview(interview_id, viewer))
    return jsonify(interview_json(interview, viewer))
