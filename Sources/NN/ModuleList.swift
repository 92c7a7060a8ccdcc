/// Numbered sub-modules (`layer.0`, `layer.1`, …), as `torch.nn.ModuleList`.
public final class ModuleList<Element: Module>: Module {
    public let elements: [Element]

    public init(_ elements: [Element]) {
        self.elements = elements
    }

    public var children: [(name: String, module: any Module)] {
        elements.enumerated().map { (String($0.offset), $0.element) }
    }

    public var count: Int { elements.count }
    public subscript(index: Int) -> Element { elements[index] }
}
