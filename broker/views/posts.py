"""Scheduled posts (`/api/posts`): create, list, show and cancel; the worker runs them."""

from __future__ import annotations

from flask import Blueprint, Response

from broker.jobs.records import Post, check_post_id
from broker.jobs.schemas import PostList, PostListQuery, PostRecord, PostRequest
from broker.services import services
from broker.web.caller import current_principal
from broker.web.contract import BEARER, Reply, body_of, documented, query_of, reply
from broker.web.idempotency import DOC, HEADER, idempotent, reserved_id

bp = Blueprint("posts", __name__, url_prefix="/api")
POST_ID_PARAM = {"post_id": {"type": "string", "pattern": r"^pst_[0-9a-f]{24}$"}}


def record_of(post: Post) -> PostRecord:
    """The API's post record of a stored post."""
    return PostRecord.model_validate(post.view())


@bp.post("/posts")
@documented(security=BEARER, body=PostRequest, errors=(403, 409, 422), headers={HEADER: DOC},
            responses={202: Reply("Accepted: the worker runs it at its time.", PostRecord)})
@idempotent
def create_post() -> Response:
    """Schedule a post (video or photo), at `publish_at` or as soon as possible.

    A `source_url` is opened before answering: a refusal is 400 media_source_refused.
    """
    post = services().posts.create(current_principal(), body_of(PostRequest), reserved_id())
    return reply(record_of(post), 202)


@bp.get("/posts")
@documented(security=BEARER, query=PostListQuery,
            responses={200: Reply("The caller's posts, newest first.", PostList)})
def list_posts() -> Response:
    """The caller's posts, newest first, optionally only those in one status."""
    posts = services().posts.store.listing(current_principal().open_id,
                                           query_of(PostListQuery).status)
    return reply(PostList(posts=[record_of(p) for p in posts]))


@bp.get("/posts/<post_id>")
@documented(security=BEARER, path=POST_ID_PARAM, errors=(404,),
            responses={200: Reply("The post record.", PostRecord)})
def show_post(post_id: str) -> Response:
    """One of the caller's posts (another caller's: 404 post_not_found)."""
    post = services().posts.store.owned(check_post_id(post_id), current_principal().open_id)
    return reply(record_of(post))


@bp.delete("/posts/<post_id>")
@documented(security=BEARER, path=POST_ID_PARAM, errors=(404, 409),
            responses={204: Reply("Cancelled.")})
def cancel_post(post_id: str) -> Response:
    """Cancel a post still scheduled or deferred (409 post_started once it runs or ended)."""
    services().posts.cancel(current_principal().open_id, check_post_id(post_id))
    return Response(status=204)
