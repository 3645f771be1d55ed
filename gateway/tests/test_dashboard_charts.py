"""The dashboard's SVG charts (gateway/dashboard/charts.py), read back as XML."""

import xml.etree.ElementTree as ET

import pytest
from gateway.dashboard import charts
from gateway.dashboard.charts import Series
from gateway.dashboard.pages.analytics_panels import adr_revpar
from markupsafe import Markup

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup: Markup) -> ET.Element:
    assert isinstance(markup, Markup)
    assert "style=" not in markup  # the CSP forbids inline styles
    return ET.fromstring(str(markup))


def text_of(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iterfind(".//s:text", NS)]


def markers(svg: ET.Element, series: int = 0) -> list[ET.Element]:
    group = svg.find(f".//s:g[@class='series series-{series}']", NS)
    assert group is not None
    return [e for e in group if "marker" in e.get("class", "")]


def y_of_marker(element: ET.Element) -> float:
    if element.get("cy") is not None:
        return float(element.get("cy", "0"))
    return float(element.get("y", "0")) + 4  # a square's centre


def zero_line(svg: ET.Element) -> float:
    line = svg.find(".//s:line[@class='grid zero']", NS)
    assert line is not None
    return float(line.get("y1", "0"))


def line(values: list[float | None], labels: list[str] | None = None) -> ET.Element:
    return parse(
        charts.line_chart(
            "c",
            "Occupancy",
            "Per night",
            labels or [f"d{i}" for i in range(len(values))],
            [Series("Occ", values)],
            y_label="Rooms",
            x_label="Night",
        )
    )


def test_a_line_chart_is_an_accessible_image_that_scales() -> None:
    svg = line([1, 2, 3])
    assert svg.get("role") == "img"
    assert svg.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    assert svg.get("width") == "100%"
    assert svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find("s:title", NS) is not None and svg.find("s:title", NS).text == "Occupancy"  # type: ignore[union-attr]
    assert svg.find("s:desc", NS).text == "Per night"  # type: ignore[union-attr]
    texts = text_of(svg)
    assert "Rooms" in texts and "Night" in texts  # axis labels
    assert "Occ" in texts  # the legend says the series' name


def test_points_sit_where_their_values_say() -> None:
    svg = line([0, 10, 5, 20])
    points = markers(svg)
    assert [p.get("data-value") for p in points] == ["0", "10", "5", "20"]
    ys = [y_of_marker(p) for p in points]
    assert ys[0] == pytest.approx(zero_line(svg))
    per_unit = (ys[0] - ys[1]) / 10
    assert per_unit > 0
    assert ys[2] == pytest.approx(ys[0] - 5 * per_unit, abs=0.02)
    assert ys[3] == pytest.approx(ys[0] - 20 * per_unit, abs=0.02)
    xs = [float(p.get("cx", "0")) for p in points]
    assert xs[0] == charts.PLOT_LEFT and xs[-1] == charts.PLOT_RIGHT
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])
    assert all(charts.PLOT_TOP <= y <= charts.PLOT_BOTTOM for y in ys)


def test_negative_values_go_below_zero_and_zero_stays_on_its_line() -> None:
    svg = line([-5, 0, 5])
    ys = [y_of_marker(p) for p in markers(svg)]
    zero = zero_line(svg)
    assert ys[0] > zero and ys[1] == pytest.approx(zero) and ys[2] < zero
    assert ys[0] - zero == pytest.approx(zero - ys[2])
    bars = parse(charts.bar_chart("b", "t", "d", ["up", "down"], [4, -2], y_label="y", x_label="x"))
    up, down = bars.iterfind(".//s:rect[@class='bar']", NS)
    zero = zero_line(bars)
    assert float(up.get("y", "0")) + float(up.get("height", "0")) == pytest.approx(zero)
    assert float(down.get("y", "0")) == pytest.approx(zero)
    assert float(up.get("height", "0")) == pytest.approx(
        2 * float(down.get("height", "0")), abs=0.02
    )


def test_all_zero_values_still_draw_an_axis() -> None:
    svg = line([0, 0])
    assert [y_of_marker(p) for p in markers(svg)] == [zero_line(svg)] * 2


def test_a_single_point_is_drawn_in_the_middle() -> None:
    svg = line([7])
    (point,) = markers(svg)
    assert float(point.get("cx", "0")) == (charts.PLOT_LEFT + charts.PLOT_RIGHT) / 2
    assert point.get("data-value") == "7"


def test_a_missing_value_breaks_the_line() -> None:
    svg = line([1, None, 3])
    assert len(markers(svg)) == 2
    path = svg.find(".//s:g[@class='series series-0']/s:path", NS)
    assert path is not None and path.get("d", "").count("M") == 2


def test_empty_series_say_there_is_nothing_to_show() -> None:
    for markup in (
        charts.line_chart("e", "t", "d", [], [], y_label="y", x_label="x", empty="Nothing"),
        charts.line_chart("e", "t", "d", ["a"], [Series("s", [None])], y_label="y", x_label="x"),
        charts.bar_chart("e", "t", "d", [], [], y_label="y", x_label="x", empty="Nothing"),
        charts.mix_chart("e", "t", "d", [("a", 0)], empty="Nothing"),
        charts.mix_chart("e", "t", "d", [], empty="Nothing"),
    ):
        svg = parse(markup)
        assert svg.get("role") == "img"
        assert svg.find(".//s:text[@class='empty']", NS) is not None


def test_labels_are_escaped() -> None:
    evil = '<script>alert("x")</script> & Co'
    markup = charts.line_chart(
        "x", evil, evil, [evil], [Series(evil, [1])], y_label=evil, x_label=evil
    )
    assert "<script>" not in markup
    svg = parse(markup)
    assert svg.find("s:title", NS).text == evil  # type: ignore[union-attr]
    bar = charts.bar_chart("y", evil, evil, [evil], [1], y_label=evil, x_label=evil)
    mix = charts.mix_chart("z", evil, evil, [(evil, 1)])
    table = charts.figures(evil, evil, [evil], [[evil, evil]])
    for markup in (bar, mix, table):
        assert "<script>" not in markup
        ET.fromstring(str(markup))


def test_a_bad_key_is_refused_as_it_becomes_an_id() -> None:
    with pytest.raises(ValueError):
        charts.line_chart(
            'a" onload="x', "t", "d", ["a"], [Series("s", [1])], y_label="", x_label=""
        )


def test_long_labels_are_cut_in_the_drawing_and_whole_in_its_titles() -> None:
    long = "Shanghai Pudong International Airport Terminal 1"
    svg = parse(charts.bar_chart("b", "t", "d", [long, "B"], [3, 4], y_label="y", x_label="x"))
    categories = ["".join(e.itertext()) for e in svg.iterfind(".//s:text[@class='category']", NS)]
    assert categories[0] == long[: charts.LABEL_CHARS - 1] + "…"
    assert categories[1] == "B"
    bar = svg.find(".//s:rect[@class='bar']/s:title", NS)
    assert bar is not None and bar.text is not None and long in bar.text
    mix = parse(charts.mix_chart("m", "t", "d", [(long, 1)]))
    assert long in "".join(mix.find(".//s:rect[@class='segment']/s:title", NS).itertext())  # type: ignore[union-attr]


def test_series_differ_by_dash_and_marker_not_colour_only() -> None:
    svg = parse(
        charts.line_chart(
            "c",
            "t",
            "d",
            ["a", "b"],
            [Series("ADR", [1, 2]), Series("RevPAR", [2, 1])],
            y_label="y",
            x_label="x",
        )
    )
    first, second = (svg.find(f".//s:g[@class='series series-{n}']/s:path", NS) for n in (0, 1))
    assert first is not None and second is not None
    assert first.get("stroke-dasharray") != second.get("stroke-dasharray")
    assert markers(svg, 0)[0].tag != markers(svg, 1)[0].tag
    assert {"ADR", "RevPAR"} <= set(text_of(svg))


def test_a_mix_chart_splits_the_width_by_share() -> None:
    svg = parse(charts.mix_chart("m", "t", "d", [("Web", 30), ("OTA", 10), ("None", 0)]))
    segments = list(svg.iterfind(".//s:rect[@class='segment']", NS))
    assert [s.get("data-value") for s in segments] == ["30", "10"]
    widths = [float(s.get("width", "0")) for s in segments]
    assert sum(widths) == pytest.approx(charts.PLOT_RIGHT - charts.PLOT_LEFT, abs=0.05)
    assert widths[0] == pytest.approx(3 * widths[1], abs=0.05)
    fills = [s.get("fill") for s in segments]
    assert fills == ["url(#m-p0)", "url(#m-p1)"]  # each its own colour and texture
    legend = " ".join(text_of(svg))
    assert "Web: 30 (75%)" in legend and "OTA: 10 (25%)" in legend and "None: 0 (0%)" in legend


def test_figures_is_a_table_with_headers() -> None:
    table = ET.fromstring(
        str(charts.figures("Figures", "Per night", ["Night", "Sold"], [["1 Dec", "3"]]))
    )
    assert table.tag == "details"
    assert [th.get("scope") for th in table.iter("th")] == ["col", "col", "row"]
    assert [td.text for td in table.iter("td")] == ["3"]


def test_scale_and_formats() -> None:
    assert charts.nice_scale(0, 0.033) == (0, pytest.approx(0.04), pytest.approx(0.01))
    assert charts.nice_scale(-3, 7)[0] <= -3 and charts.nice_scale(-3, 7)[1] >= 7
    assert charts.nice_scale(5, 5)[0] == 0  # zero always on the axis
    assert charts.nice_scale(0, 1, whole=True) == (0, 1, 1)  # counts: no quarter bookings
    assert charts.nice_scale(0, 10, whole=True)[2] == 3
    assert charts.percent(0.75) == "75%" and charts.percent(0.1234) == "12.3%"
    assert charts.plain(1234) == "1,234" and charts.plain(4.25) == "4.25"


def test_adr_and_revpar_from_revenue_rooms_sold_and_available() -> None:
    assert adr_revpar(1584000, 30, 40) == (52800, 39600)
    assert adr_revpar(100, 3, 0) == (33, 0)  # nothing available: 0, not a division by zero
    assert adr_revpar(5, 2, 4) == (3, 1)  # half up
