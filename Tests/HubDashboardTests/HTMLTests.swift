import Testing
@testable import HubDashboard
