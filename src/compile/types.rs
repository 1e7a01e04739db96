//! Static types known at compile time, for the type errors a policy can show
//! before it meets a record. Field paths are `Unknown` until a record schema is
//! given, so only literals, functions and operators constrain them here.

use crate::syntax::ast::BinaryOp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Unknown,
    Null,
    Bool,
    Number,
    Text,
    Timestamp,
    Date,
    Duration,
    List,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Unknown => "value",
            Ty::Null => "null",
            Ty::Bool => "boolean",
            Ty::Number => "number",
            Ty::Text => "text",
            Ty::Timestamp => "timestamp",
            Ty::Date => "date",
            Ty::Duration => "duration",
            Ty::List => "list",
        }
    }

    fn is_temporal(self) -> bool {
        matches!(self, Ty::Timestamp | Ty::Date)
    }
}

/// Whether two values of these types can be compared (`==`, `<`, `between`).
pub fn comparable(a: Ty, b: Ty) -> bool {
    use Ty::*;
    match (a, b) {
        (Unknown, _) | (_, Unknown) | (Null, _) | (_, Null) => true,
        (x, y) if x == y => true,
        (x, y) if x.is_temporal() && y.is_temporal() => true,
        // Text meets a timestamp or date by being parsed as one.
        (Text, y) | (y, Text) if y.is_temporal() => true,
        _ => false,
    }
}

/// The result type of arithmetic, or `None` when the operands cannot meet.
pub fn arithmetic(op: BinaryOp, a: Ty, b: Ty) -> Option<Ty> {
    use BinaryOp::*;
    use Ty::*;
    let temporal = |t: Ty| t.is_temporal() || t == Text;
    Some(match (op, a, b) {
        // A number added to or subtracted from anything valid gives a number.
        (Add | Subtract, Unknown, Number) | (Add | Subtract, Number, Unknown) => Number,
        (_, Unknown, _) | (_, _, Unknown) => Unknown,
        (Add | Subtract | Multiply | Divide, Number, Number) => Number,
        (Add | Subtract, Duration, Duration) => Duration,
        (Subtract, x, y) if x.is_temporal() && temporal(y) || temporal(x) && y.is_temporal() => Duration,
        (Add | Subtract, x, Duration) if temporal(x) => {
            if x == Date {
                Date
            } else {
                Timestamp
            }
        }
        (Add, Duration, x) if temporal(x) => {
            if x == Date {
                Date
            } else {
                Timestamp
            }
        }
        (Multiply, Duration, Number) | (Multiply, Number, Duration) | (Divide, Duration, Number) => Duration,
        (Divide, Duration, Duration) => Number,
        _ => return None,
    })
}
