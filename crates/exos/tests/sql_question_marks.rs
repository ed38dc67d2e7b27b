//! A `?` in user SQL is text, on every store (the ClickHouse client would read it as a bind
//! placeholder if the query were not sent raw).

mod common;

use common::Server;

#[test]
fn question_marks_in_sql_are_text() {
    let server = Server::start(&[]);
    let result = server.sql("SELECT 'what?' AS q, 'a??b' AS r");
    assert_eq!(result["rows"][0][0], "what?");
    assert_eq!(result["rows"][0][1], "a??b");
}
