//! Every error Jiandaoyun can answer, as one table: code, HTTP status, English and Chinese message.
//!
//! Numbers and texts follow the official error table (开发指南 » 错误码). All business errors are HTTP 400
//! with `{"code": <int>, "msg": "<text>"}`; workflow actions use `{"status":"failure","code","message"}`.
//! The same table serves handlers and fault injection (`error = "rate_limited"` → 8304).

use serde_json::json;

use crate::http::Response;
use crate::Locale;

/// (code, English, Chinese). Order follows the official table.
const TABLE: &[(u32, &str, &str)] = &[
    (1, "The request is invalid.", "错误的请求"),
    (1005, "The email already exists.", "邮箱已存在"),
    (1010, "The member doesn't exist.", "用户不存在"),
    (1017, "The username is in an invalid format.", "用户名不符合格式要求"),
    (1018, "The email is in an invalid format.", "用户邮箱不符合格式要求"),
    (1019, "The member's nickname is in an invalid format.", "用户昵称不符合格式要求"),
    (1022, "The member's current company/team doesn't exist.", "用户团队不存在"),
    (1024, "The mobile number is invalid.", "手机号码不正确"),
    (1027, "The phone number already exists.", "手机号码已存在"),
    (1058, "Do not have permission to call the task list.", "用户操作权限不足"),
    (1065, "The member has already been added to the team.", "当前用户已加入团队"),
    (1082, "The phone number/email is required.", "手机号和邮箱不能同时为空"),
    (1085, "The member's nickname is required.", "昵称不能为空"),
    (1087, "Duplicate unique fields.", "唯一性字段重复"),
    (1092, "The length of the username has exceeded the limit.", "工号长度超出限制"),
    (1096, "The request contains invalid member parameter(s).", "用户参数不合法"),
    (1201, "The role doesn't exist.", "企业角色信息不存在"),
    (1202, "Unable to operate synchronized role or role groups", "无法操作同步的角色/角色组"),
    (1203, "The role group/role information is invalid.", "角色/角色组信息不合法"),
    (1205, "The role group is required.", "必须指定角色组"),
    (1206, "The role group doesn't exist.", "指定的角色组不存在"),
    (1207, "The length of the role group name has exceeded the limit.", "角色/角色组名称长度超限"),
    (1208, "Can't delete a role group with member(s).", "非空角色组不能删除"),
    (2004, "The app doesn't exist.", "应用不存在"),
    (3000, "The form doesn't exist.", "表单不存在"),
    (3001, "The member or department name is required.", "名称不能为空"),
    (3005, "The request contains invalid parameter(s).", "参数不正确"),
    (4000, "Failed to submit data.", "数据提交失败"),
    (4001, "Data doesn't exist.", "数据不存在"),
    (4005, "Revoke is not allowed.", "操作失败，不允许撤回"),
    (4007, "No approver for the workflow.", "操作失败，没有流程处理人"),
    (4008, "The workflow was closed.", "操作失败，流程已经关闭"),
    (4009, "Do not have permission to approve.", "操作失败，无权限"),
    (4012, "Operation failed. This form is being used in other batch editing tasks.", "操作失败，当前表单正在执行其他批量编辑任务"),
    (4015, "The approver of the transferred node is invalid.", "操作失败，当前节点不存在该候选人"),
    (4016, "The workflow can't be transferred to oneself.", "操作失败，流程不能转交给自己"),
    (4025, "Do not have permission for the workflow.", "您没有数据流程权限"),
    (4026, "A running workflow can't be activated.", "流程状态，进行中流程无法激活"),
    (4042, "Failed to delete the data.", "数据删除失败"),
    (4815, "The filter condition is invalid.", "过滤条件设置有误"),
    (5003, "The workflow node doesn't exist.", "流程节点不存在"),
    (5004, "No comment for approval.", "未提交流程审批意见"),
    (5009, "The approver of the returned node is invalid.", "找不到回退后的负责人"),
    (5011, "The target node is invalid.", "找不到流转节点"),
    (5025, "The current node has already been completed.", "当前节点已经流转完成"),
    (5056, "Workflow operations are not available on a non-workflow form.", "不能对非流程表单进行流程操作"),
    (6000, "There is a sub-department with the same name.", "已存在同名部门"),
    (6001, "The parent department doesn't exist.", "父部门不存在"),
    (6002, "The department doesn't exist.", "部门不存在"),
    (6003, "Can't delete a department with sub-department(s).", "存在子部门，不能删除"),
    (6006, "Can't delete a department with member(s).", "部门内存在成员，不能删除"),
    (6015, "Can't delete a root department.", "根部门不能被删除"),
    (7212, "Monthly data exceeds the limit.", "该账号的本月数据流量已用完，无法提交新数据"),
    (8017, "Company/Team doesn't exist or has been closed.", "企业不存在或者已经被解散"),
    (8301, "Failed to verify the API key for authorization.", "API 签名校验失败"),
    (8302, "Do not have permission for the API calls.", "没有接口请求权限"),
    (8303, "The call frequency of the company/team exceeds the frequency limit.", "企业 API 请求次数达到频率上限"),
    (8304, "The call frequency exceeds the frequency limit.", "当前接口请求次数达到频率上限"),
    (9004, "Failed to create the task.", "队列任务创建失败"),
    (9007, "Failed to obtain the lock.", "锁获取失败"),
    (17017, "The request contains invalid parameter(s).", "平台 API 的参数异常"),
    (17018, "The API key is invalid.", "无效的 API Key"),
    (17023, "The batch update at one time exceeds the limit.", "单次批量修改数量超出限制"),
    (17024, "The batch creation at one time exceeds the limit.", "单次批量创建数量超出限制"),
    (17025, "The transaction_id contains invalid parameter(s).", "transaction_id 参数格式不正确"),
    (17026, "The transaction_id already exists.", "transaction_id 重复"),
    (17027, "Failed to upload the API file.", "API 文件上传失败"),
    (17032, "The field type isn't supported.", "不支持的字段类型"),
    (17033, "The limit for batch deletion quantity has been exceeded.", "批量删除数据超出数量限制"),
    (17034, "The sub-field type isn't supported.", "不支持的子表单字段类型"),
    (17052, "Not included in the IP whitelist.", "不在 IP 白名单内"),
    (17053, "Not among the authorized apps.", "不在应用授权范围内"),
    (17054, "Not among the authorized APIs.", "不在接口授权范围内"),
    (30002, "Unable to retrieve the pre-set CRM form now.", "CRM 预设表单暂不支持调用"),
];

/// Names usable in fault rules (`error = "<name>"`), besides any code number written as a string.
pub const NAMED: &[(&str, u32)] = &[
    ("unauthorized", 8301),
    ("invalid_key", 17018),
    ("forbidden", 8302),
    ("app_not_in_scope", 17053),
    ("not_found", 4001),
    ("app_not_found", 2004),
    ("form_not_found", 3000),
    ("invalid_param", 3005),
    ("invalid_request", 1),
    ("invalid_filter", 4815),
    ("submit_failed", 4000),
    ("rate_limited", 8304),
    ("enterprise_rate_limited", 8303),
    ("lock_failed", 9007),
    ("quota_exceeded", 7212),
];

/// A Jiandaoyun business error: a code from [`TABLE`] plus, optionally, a detail the emulator appends
/// to the message (only in `strict_values` mode, where extra help is the point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdyError {
    pub code: u32,
    pub detail: Option<String>,
}

impl JdyError {
    pub const fn new(code: u32) -> Self {
        Self { code, detail: None }
    }

    pub fn with_detail(code: u32, detail: impl Into<String>) -> Self {
        Self { code, detail: Some(detail.into()) }
    }

    pub fn message(&self, locale: Locale) -> String {
        let base = message_for(self.code, locale);
        match &self.detail {
            Some(d) => format!("{base} ({d})"),
            None => base.to_owned(),
        }
    }

    /// HTTP 400 with `{"code","msg"}` — the documented shape of every data/app/contact error.
    pub fn render(&self, locale: Locale) -> Response {
        Response::json(400, &json!({ "code": self.code, "msg": self.message(locale) }))
    }
}

pub fn message_for(code: u32, locale: Locale) -> &'static str {
    match TABLE.iter().find(|(c, _, _)| *c == code) {
        Some((_, en, zh)) => match locale {
            Locale::En => en,
            _ => zh,
        },
        None => match locale {
            Locale::En => "Unknown error.",
            _ => "未知错误",
        },
    }
}

pub fn is_known(code: u32) -> bool {
    TABLE.iter().any(|(c, _, _)| *c == code)
}

/// Renders a named error for fault injection and server-level failures.
pub fn render_named(name: &str, locale: Locale) -> Option<Response> {
    match name {
        "internal_error" => Some(Response::json(500, &json!({ "code": 500, "msg": internal_msg(locale) }))),
        "payload_too_large" => Some(Response::json(413, &json!({ "code": 1, "msg": message_for(1, locale) }))),
        "concurrency_limited" => Some(Response::json(429, &json!({ "code": 429, "msg": "超出请求并发限制" }))),
        "gateway_error" => Some(Response::json(502, &json!({ "code": 502, "msg": "Bad Gateway" }))),
        _ => {
            let code = NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c).or_else(|| name.parse().ok().filter(|c| is_known(*c)))?;
            Some(JdyError::new(code).render(locale))
        }
    }
}

fn internal_msg(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Internal server error.",
        _ => "服务器内部错误",
    }
}

/// All names a fault rule may use, for `routes --errors` and the docs.
pub fn error_names() -> Vec<String> {
    let mut v: Vec<String> = NAMED.iter().map(|(n, c)| format!("{n} ({c})")).collect();
    v.extend(
        ["internal_error (HTTP 500)", "payload_too_large (HTTP 413)", "concurrency_limited (HTTP 429)", "gateway_error (HTTP 502)"]
            .map(String::from),
    );
    v.push("<any documented code number, e.g. \"4012\">".into());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_codes_are_unique() {
        let mut codes: Vec<u32> = TABLE.iter().map(|t| t.0).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }

    #[test]
    fn named_errors_resolve() {
        for (name, code) in NAMED {
            assert!(is_known(*code), "{name}");
            assert!(render_named(name, Locale::Zh).is_some());
        }
        assert_eq!(render_named("4012", Locale::En).map(|r| r.status), Some(400));
        assert!(render_named("nope", Locale::En).is_none());
    }
}
