"""Complaints and feedback (投诉及意见反馈, CMP-01 to CMP-18): tables."""
