import Foundation

/// A line chart drawn as inline SVG: one or more series of (x, y) points over shared axes with
/// round tick values, a title, a legend when there are several series, and optional vertical
/// markers (the best checkpoint). The output needs no script or stylesheet to show; the report's
/// stylesheet sets its fonts, and its script reads the `data-` attributes for hover read-outs.
public struct SVGChart: Sendable {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) {
            self.x = x
            self.y = y
        }
    }

    public struct Series: Sendable {
        public var name: String
        /// A CSS colour (`#2563eb`).
        public var colour: String
        public var points: [Point]
        /// Dots at each point: for sparse series such as one evaluation per epoch.
        public var showsDots: Bool
        /// 0 draws the points as they are; above 0 (up to 1) draws them faintly with an
        /// exponential moving average of this weight over them, as TensorBoard smooths noisy losses.
        public var smoothing: Double

        public init(name: String, colour: String, points: [Point], showsDots: Bool = false, smoothing: Double = 0) {
            self.name = name
            self.colour = colour
            self.points = points
            self.showsDots = showsDots
            self.smoothing = smoothing
        }
    }

    /// A labelled vertical line at `x`.
    public struct Marker: Sendable {
        public var x: Double
        public var label: String
        public var colour: String
        public init(x: Double, label: String, colour: String) {
            self.x = x
            self.label = label
            self.colour = colour
        }
    }

    public var title: String
    public var xLabel: String
    public var series: [Series]
    public var markers: [Marker]
    /// The x range to cover, so that charts of one report line up; by default the points' range.
    public var xRange: ClosedRange<Double>?
    public var showsLegend: Bool
    public var width: Double
    public var height: Double

    public init(title: String, xLabel: String = "step", series: [Series], markers: [Marker] = [],
                xRange: ClosedRange<Double>? = nil, showsLegend: Bool? = nil, width: Double = 560, height: Double = 300) {
        self.title = title
        self.xLabel = xLabel
        self.series = series.map { series in
            var finite = series
            finite.points = series.points.filter { $0.x.isFinite && $0.y.isFinite }
            return finite
        }
        self.markers = markers
        self.xRange = xRange
        self.showsLegend = showsLegend ?? (series.count > 1)
        self.width = width
        self.height = height
    }

    /// The `<svg>` element.
    public func svg() -> String {
        let legend = legendLayout()
        let points = series.flatMap(\.points)
        let xs = points.map(\.x) + markers.map(\.x)
        let ys = points.map(\.y)
        let xScale = AxisScale(covering: min(xRange?.lowerBound ?? .infinity, xs.min() ?? 0),
                               max(xRange?.upperBound ?? -.infinity, xs.max() ?? 1), tickCount: 6, integerTicks: true)
        let yScale = AxisScale(covering: ys.min() ?? 0, ys.max() ?? 1, tickCount: 5)
        let yLabels = yScale.ticks.map { (value: $0, text: yScale.label($0)) }
        let longestLabel = yLabels.map(\.text.count).max() ?? 1
        let plot = PlotArea(left: max(40, 18 + Double(longestLabel) * 6.6), top: 44 + legend.height,
                            right: width - 20, bottom: height - 42, xScale: xScale, yScale: yScale)

        var svg = "<svg" + attributes([
            ("class", "chart"), ("viewBox", "0 0 \(number(width)) \(number(height))"), ("role", "img"), ("aria-label", title),
            ("data-x", "\(data(xScale.lower)) \(data(xScale.upper))"), ("data-y", "\(data(yScale.lower)) \(data(yScale.upper))"),
            ("data-plot", [plot.left, plot.top, plot.right, plot.bottom].map(number).joined(separator: " ")),
        ]) + ">\n"
        svg += element("text", [("class", "chart-title"), ("x", "16"), ("y", "24")], text: title) + "\n"
        svg += legend.svg
        svg += grid(plot, yLabels: yLabels)
        svg += markerLines(plot)
        if points.isEmpty {
            let middle = [("x", number((plot.left + plot.right) / 2)), ("y", number((plot.top + plot.bottom) / 2))]
            svg += element("text", [("class", "no-data")] + middle + [("text-anchor", "middle")], text: "no data yet") + "\n"
        }
        // Hidden until the report's script shows it under the pointer.
        svg += element("line", [("class", "hover-line"), ("x1", "0"), ("y1", number(plot.top)), ("x2", "0"),
                                ("y2", number(plot.bottom)), ("visibility", "hidden")]) + "\n"
        for series in series where !series.points.isEmpty { svg += lines(of: series, plot) }
        return svg + "</svg>"
    }

    /// The plotting rectangle in SVG units and the scales that map values into it.
    struct PlotArea {
        let left, top, right, bottom: Double
        let xScale, yScale: AxisScale
        func x(_ value: Double) -> Double { left + xScale.fraction(of: value) * (right - left) }
        func y(_ value: Double) -> Double { bottom - yScale.fraction(of: value) * (bottom - top) }
    }

    private func grid(_ plot: PlotArea, yLabels: [(value: Double, text: String)]) -> String {
        let (left, right, top, bottom) = (number(plot.left), number(plot.right), number(plot.top), number(plot.bottom))
        var svg = "<g class=\"grid\">\n"
        for (value, label) in yLabels {
            let y = number(plot.y(value))
            svg += element("line", [("x1", left), ("y1", y), ("x2", right), ("y2", y)])
            svg += element("text", [("class", "tick"), ("x", number(plot.left - 8)), ("y", y), ("dy", "0.32em"), ("text-anchor", "end")],
                           text: label) + "\n"
        }
        for value in plot.xScale.ticks {
            let x = number(plot.x(value))
            svg += element("line", [("class", "vertical"), ("x1", x), ("y1", top), ("x2", x), ("y2", bottom)])
            svg += element("text", [("class", "tick"), ("x", x), ("y", number(plot.bottom + 17)), ("text-anchor", "middle")],
                           text: plot.xScale.label(value)) + "\n"
        }
        svg += element("line", [("class", "axis"), ("x1", left), ("y1", bottom), ("x2", right), ("y2", bottom)]) + "\n"
        svg += element("text", [("class", "axis-label"), ("x", right), ("y", number(plot.bottom + 34)), ("text-anchor", "end")],
                       text: xLabel) + "\n"
        return svg + "</g>\n"
    }

    private func markerLines(_ plot: PlotArea) -> String {
        markers.map { marker in
            let x = number(plot.x(marker.x))
            let line = element("line", [("x1", x), ("y1", number(plot.top)), ("x2", x), ("y2", number(plot.bottom)),
                                        ("stroke", marker.colour), ("stroke-dasharray", "4 3")])
            let label = element("text", [("x", x), ("y", number(plot.top - 5)), ("text-anchor", "middle"), ("fill", marker.colour)],
                                text: marker.label)
            return "<g class=\"marker\">\(line)\(label)</g>\n"
        }.joined()
    }

    /// A series' group: its line (or its faint line and the smoothed one), its dots, and the dot
    /// the script moves under the pointer; the raw values in `data-points` for the read-out.
    private func lines(of series: Series, _ plot: PlotArea) -> String {
        let values = series.points.map { "\(data($0.x)),\(data($0.y))" }.joined(separator: ";")
        var svg = "<g" + attributes([("class", "series"), ("data-name", series.name), ("data-colour", series.colour),
                                     ("data-points", values)]) + ">"
        let smoothed = series.smoothing > 0 ? Self.smoothed(series.points, weight: series.smoothing) : nil
        svg += path(series.points, plot, colour: series.colour, opacity: smoothed == nil ? 1 : 0.25, lineWidth: smoothed == nil ? 1.8 : 1.2)
        if let smoothed { svg += path(smoothed, plot, colour: series.colour, opacity: 1, lineWidth: 1.8) }
        if series.showsDots || series.points.count == 1 {
            for point in series.points {
                svg += element("circle", [("cx", number(plot.x(point.x))), ("cy", number(plot.y(point.y))), ("r", "3"),
                                          ("fill", series.colour), ("stroke", "#fff"), ("stroke-width", "1")])
            }
        }
        svg += element("circle", [("class", "hover-dot"), ("r", "4"), ("fill", series.colour), ("stroke", "#fff"),
                                  ("stroke-width", "1.5"), ("visibility", "hidden")])
        return svg + "</g>\n"
    }

    private func path(_ points: [Point], _ plot: PlotArea, colour: String, opacity: Double, lineWidth: Double) -> String {
        var d = ""
        for (index, point) in points.enumerated() {
            d += (index == 0 ? "M" : "L") + number(plot.x(point.x)) + "," + number(plot.y(point.y))
        }
        let faint = opacity < 1 ? [("stroke-opacity", number(opacity))] : []
        return element("path", [("d", d), ("fill", "none"), ("stroke", colour)] + faint + [
            ("stroke-width", number(lineWidth)), ("stroke-linejoin", "round"), ("stroke-linecap", "round"),
        ])
    }

    /// An exponential moving average, corrected for its start at zero (as TensorBoard smooths).
    static func smoothed(_ points: [Point], weight: Double) -> [Point] {
        var average = 0.0, correction = 1.0
        return points.map { point in
            average = average * weight + (1 - weight) * point.y
            correction *= weight
            return Point(x: point.x, y: average / (1 - correction))
        }
    }

    /// Legend entries laid out left to right, wrapping to a new row when the width runs out.
    private func legendLayout() -> (svg: String, height: Double) {
        guard showsLegend, !series.isEmpty else { return ("", 0) }
        var svg = "<g class=\"legend\">", x = 16.0, row = 0
        for series in series {
            let entryWidth = 22 + Double(series.name.count) * 6.6 + 16
            if x + entryWidth > width - 16 && x > 16 {
                x = 16
                row += 1
            }
            let y = 42 + Double(row) * 18
            svg += element("line", [("x1", number(x)), ("y1", number(y)), ("x2", number(x + 16)), ("y2", number(y)),
                                    ("stroke", series.colour), ("stroke-width", "3"), ("stroke-linecap", "round")])
            svg += element("text", [("x", number(x + 22)), ("y", number(y)), ("dy", "0.32em")], text: series.name)
            x += entryWidth
        }
        return (svg + "</g>\n", Double(row + 1) * 18)
    }

    /// A coordinate with at most one decimal.
    private func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// A value for the `data-` attributes, to six significant digits.
    private func data(_ value: Double) -> String { String(format: "%.6g", value) }

    /// ` name="value"…`, every value escaped.
    private func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(HTMLText.escape($0.1))\"" }.joined()
    }

    /// `<name …/>`, or `<name …>text</name>` with the text escaped.
    private func element(_ name: String, _ pairs: [(String, String)], text: String? = nil) -> String {
        guard let text else { return "<\(name)\(attributes(pairs))/>" }
        return "<\(name)\(attributes(pairs))>\(HTMLText.escape(text))</\(name)>"
    }
}
