//! Helpers for the broker's unit tests: one request in, its response out.

use crate::broker::{Broker, BrokerInput};
use crate::effects::Effects;
use crate::protocol::{Message, Request, Response};
use crate::rng::SimRng;
use crate::trace::Detail;
use crate::units::{ClientId, SimTime};

/// Hands `request` to `broker` at time 0 and returns its answer (panics if it sent none).
pub(crate) fn ask(broker: &mut Broker, request: Request) -> Response {
    let mut rng = SimRng::for_component(1, "broker/1");
    let mut out = Effects::new(Detail::Records);
    let input = BrokerInput::Request {
        from: ClientId(0),
        correlation_id: 7,
        request,
    };
    broker.handle(SimTime(0), input, &mut rng, &mut out);
    match out.sends.pop() {
        Some((_, Message::Response { response, .. })) => response,
        other => panic!("no response: {other:?}"),
    }
}
