//! OMFlow's messages in Traditional Chinese (the product's default language) and English.
//!
//! Success and failure texts of create/query/push are the manual's (seeds 000 and 001); reasons and
//! REST-gate messages are the product's own message catalogue.

use crate::Locale;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    CreateOk,
    CreateFailed,
    QueryOk,
    QueryFailed,
    PushOk,
    PushFailed,
    MissingRestapi,
    SecurityWrong,
    SecurityExpired,
    UrlError,
    MissingParams,
    EmptyParams,
    BadAction,
    DeleteOk,
    DataNotFound,
    RequiredMissing,
    FlowNotFound,
    ApiDisabled,
    UnknownField,
    BadFormdata,
    NotAtManualNode,
    BadQuickAction,
    LoginOk,
    UserNotEnabled,
    UserNotFound,
    ListOk,
    ListFailed,
}

/// (zh-Hant, English)
fn texts(m: Msg) -> (&'static str, &'static str) {
    match m {
        Msg::CreateOk => ("開單成功。", "Create data successful"),
        Msg::CreateFailed => ("開單失敗。", "Failed to create data"),
        Msg::QueryOk => ("查詢成功。", "Query successful"),
        Msg::QueryFailed => ("查詢失敗。", "Query failed"),
        Msg::PushOk => ("推單成功。", "Push data successful"),
        Msg::PushFailed => ("推單失敗。", "Failed to push data"),
        Msg::MissingRestapi => ("缺少參數：omflow_restapi", "Missing parameter:omflow_restapi"),
        Msg::SecurityWrong => (
            "安全碼錯誤，請確認安全碼或重新取得新的安全碼。",
            "The security code is wrong. Please confirm the security code or obtain a new security code.",
        ),
        Msg::SecurityExpired => ("安全碼過期，請重新取得新的安全碼。", "The security code has expired. Please obtain a new security code."),
        Msg::UrlError => ("URL錯誤，請確認後重新發送請求。", "URL error, please confirm and resend the request."),
        Msg::MissingParams => {
            ("缺少必要參數，請確認後重新發送請求。", "Missing necessary parameters, please confirm and resend the request.")
        }
        Msg::EmptyParams => {
            ("必要參數為空，請確認後重新發送請求。", "Necessary parameters are empty, please confirm and resend the request.")
        }
        Msg::BadAction => ("請提供正確的動作，新增、編輯或刪除。", "Please provide the correct action to add, edit or delete."),
        Msg::DeleteOk => ("刪除成功。", "Delete successfully."),
        Msg::DataNotFound => ("找不到該筆資料。", "The data cannot be found."),
        Msg::RequiredMissing => ("缺少必填欄位。", "Missing required fields."),
        Msg::FlowNotFound => ("找不到該流程。", "The flow could not be found."),
        Msg::ApiDisabled => ("該流程未啟用API呼叫。", "API call is not enabled for this flow."),
        Msg::UnknownField => ("表單沒有此欄位：", "The form has no such field: "),
        Msg::BadFormdata => ("formdata 格式錯誤。", "formdata is malformed."),
        Msg::NotAtManualNode => (
            "該流程目前並未處於人工處理點，無法人工推進流程。",
            "The flow is currently not at a manual flowing point, and the flow cannot be advanced manually.",
        ),
        Msg::BadQuickAction => ("請提供正確的快速操作。", "Please provide a correct quick action."),
        Msg::LoginOk => ("取得成功。", "Success."),
        Msg::UserNotEnabled => ("使用者不存在或未啟用。", "User does not exist or is not enabled."),
        Msg::UserNotFound => ("OmUser matching query does not exist.", "OmUser matching query does not exist."),
        Msg::ListOk => ("查詢成功。", "The query was successful."),
        Msg::ListFailed => ("查詢失敗，錯誤訊息如下：", "Query failed, the error message is as follows:"),
    }
}

pub fn text(m: Msg, locale: Locale) -> &'static str {
    let (zh, en) = texts(m);
    match locale {
        Locale::En => en,
        _ => zh,
    }
}

/// "<failed>: <reason>" as the manual prints it in English, "<failed>：<reason>" (full-width colon,
/// the trailing 。 of the prefix dropped) as the product prints engine details in Chinese.
pub fn with_reason(failed: Msg, reason: &str, locale: Locale) -> String {
    let prefix = text(failed, locale);
    match locale {
        Locale::En => format!("{prefix}: {reason}"),
        _ => format!("{}：{reason}", prefix.trim_end_matches('。')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_follow_each_language_style() {
        assert_eq!(with_reason(Msg::CreateFailed, text(Msg::RequiredMissing, Locale::ZhHant), Locale::ZhHant), "開單失敗：缺少必填欄位。");
        assert_eq!(
            with_reason(Msg::CreateFailed, text(Msg::RequiredMissing, Locale::En), Locale::En),
            "Failed to create data: Missing required fields."
        );
    }
}
