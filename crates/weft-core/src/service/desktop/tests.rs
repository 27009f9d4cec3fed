//! Tests of other apps' notifications through the dispatcher: a real store file and a manual
//! clock.
