"""The record of every workflow transition: who, acting for whom, when, why."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import BigId, Model, utcnow


class WorkflowTransition(Model):
    """One step taken in an approval chain, written by the workflow engine."""

    __tablename__ = "workflow_transition"
    __table_args__ = (
        Index("ix_workflow_transition_record", "workflow", "record_id"),
        Index("ix_workflow_transition_acting_for_id", "acting_for_id"),
    )

    id = Column(BigId, primary_key=True, autoincrement=True)
    workflow = Column(String(40), nullable=False)
    record_id = Column(Integer, nullable=False)
    action = Column(String(40), nullable=False)
    from_state = Column(String(40), nullable=False)
    to_state = Column(String(40), nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    acting_for_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    occurred_at = Column(DateTime, nullable=False, default=utcnow)
    comment = Column(Text, nullable=True)

    actor = relationship(User, foreign_keys=[actor_id])
    acting_for = relationship(User, foreign_keys=[acting_for_id])
