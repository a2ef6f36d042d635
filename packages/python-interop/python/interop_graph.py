"""The graph both sides share: the Python half (packages/python-interop/test/graph.ts is the other).

* interop/video: a root with two fields and typed columns;
* interop/clip: depends on video, field by field (transcript <- audio, thumbnail <- frames);
* interop/scene: aggregates video rows per scene_id (an N:1 lineage).

`transcript_version` is the code version of clip's transcript field (bumped by the tests).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import metaxy as mx
from pydantic import Field

# Python Metaxy takes a feature's project from its top-level package.
__metaxy_project__ = "interop"


def build_graph(transcript_version: str = "1") -> tuple[mx.FeatureGraph, dict[str, type[mx.BaseFeature]]]:
    graph = mx.FeatureGraph()
    with graph.use():

        class Video(
            mx.BaseFeature,
            spec=mx.FeatureSpec(
                key="interop/video",
                id_columns=("sample_uid",),
                fields=[mx.FieldSpec(key="audio", code_version="1"), mx.FieldSpec(key="frames", code_version="1")],
            ),
        ):
            sample_uid: str
            scene_id: str
            duration: float
            n_frames: int
            is_hd: bool
            captured_at: datetime | None = None
            language: str | None = None

        class Clip(
            mx.BaseFeature,
            spec=mx.FeatureSpec(
                key="interop/clip",
                id_columns=("sample_uid",),
                deps=[Video],
                fields=[
                    mx.FieldSpec(
                        key="transcript",
                        code_version=transcript_version,
                        deps=[mx.FieldDep(feature=Video, fields=["audio"])],
                    ),
                    mx.FieldSpec(
                        key="thumbnail",
                        code_version="1",
                        deps=[mx.FieldDep(feature=Video, fields=["frames"])],
                    ),
                ],
            ),
        ):
            sample_uid: str
            text: str | None = None

        class Scene(
            mx.BaseFeature,
            spec=mx.FeatureSpec(
                key="interop/scene",
                id_columns=("scene_id",),
                deps=[
                    mx.FeatureDep(
                        feature=Video,
                        lineage=mx.LineageRelationship.aggregation(on=["scene_id"]),
                    )
                ],
                fields=[mx.FieldSpec(key="summary", code_version="1")],
            ),
        ):
            scene_id: str

    return graph, {"interop/video": Video, "interop/clip": Clip, "interop/scene": Scene}


def build_zoo() -> type[mx.BaseFeature]:
    """One feature with every column type both sides express (its JSON schema is compared)."""
    graph = mx.FeatureGraph()
    with graph.use():

        class Zoo(mx.BaseFeature, spec=mx.FeatureSpec(key="interop/zoo", id_columns=("sample_uid",))):
            """Every column type both sides can express."""

            sample_uid: str = Field(description="the id")
            choice: Literal["x", "y"]
            only: Literal["x"]
            sizes: list[int] = [1, 2]
            labels: dict[str, str]
            anything: Any
            ratio: float = Field(default=0.5, ge=0, lt=10)
            code: str = Field(min_length=1, max_length=5, pattern="^a")
            count: int | None
            seen_at: datetime | None = None
            flag: bool = True
            k2x_y: str = "q"
            level: Literal[1, 2]
            note: str | None = "z"
            big: int

    return Zoo
