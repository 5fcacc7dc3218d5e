/// A simulation that cannot be set up, naming the setting at fault.
public enum SimulationError: Error, CustomStringConvertible, Equatable {
    /// A setting is out of its range.
    case invalidSetting(name: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSetting(name, reason): return "simulation setting '\(name)': \(reason)"
        }
    }
}
