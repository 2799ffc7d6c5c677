"""Reviewing detections on the waveform: span lanes, the detection lane, the review panel."""

from relay_desktop.ui.review.detection_lane import DetectionLane, LaneDetection
from relay_desktop.ui.review.lanes import LaneSpan, SpanLane
from relay_desktop.ui.review.panel import ReviewPanel
from relay_desktop.ui.review.threshold import ThresholdSlider

__all__ = ["DetectionLane", "LaneDetection", "LaneSpan", "ReviewPanel", "SpanLane",
           "ThresholdSlider"]
