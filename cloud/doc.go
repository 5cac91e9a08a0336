// Package cloud is imagefleet's view of the cloud provider: one Go interface per
// service, whose calls mirror the real services' action names and request and
// response shapes (Alibaba Cloud ECS and Compute Nest), and an HTTP client that
// implements them against the simulated cloud (see ../cloudsim).
//
// A real provider can stand behind the same interfaces: activities depend only
// on them, never on the simulator.
//
// Wire protocol: every action is POST {endpoint}/api/{Action} with a JSON body;
// the caller's account travels in the X-Imagefleet-Account header. Errors come
// back as a non-2xx status with an ErrorBody.
package cloud
