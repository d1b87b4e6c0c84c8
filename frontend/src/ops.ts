// Every GraphQL operation of the web app. `npm run generate` types them from schema.graphql
// into ./gql (GraphQL Code Generator, client preset).
import { graphql } from './gql'

export const MeQuery = graphql(`
  query Me {
    version
    me {
      id
      email
      userName
      fullName
      systemAdmin
      memberships { id isAdmin organization { id name fullName folderPath } }
    }
  }
`)

export const LoginMutation = graphql(`
  mutation Login($login: String!, $password: String!) {
    login(login: $login, password: $password) { id email }
  }
`)

export const LogoutMutation = graphql(`
  mutation Logout { logout }
`)

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($current: String!, $next: String!) {
    changePassword(currentPassword: $current, newPassword: $next)
  }
`)

export const ResourceQuery = graphql(`
  query Resource($path: String!) {
    resource(path: $path) {
      id
      name
      path
      type
      access
      createdAt
      updatedAt
      lastRevisionAt
      userAttributes
      ancestors { id name path }
      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }
      url
    }
  }
`)

export const ChildrenQuery = graphql(`
  query Children($path: String!, $first: Int = 500, $after: String) {
    resource(path: $path) {
      id
      children(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges {
          node {
            id
            name
            path
            type
            updatedAt
            lastRevisionAt
            sequence { dataType units decimalPlaces }
            lastValue { timestamp number text }
            controller { online }
          }
        }
      }
    }
  }
`)

export const SequenceUpdatesSubscription = graphql(`
  subscription SequenceUpdates($path: String!) {
    sequenceUpdates(path: $path) { path timestamp number text contentType }
  }
`)

export const SeriesQuery = graphql(`
  query Series($path: String!, $from: Time, $to: Time, $maxPoints: Int) {
    resource(path: $path) {
      id
      series(from: $from, to: $to, maxPoints: $maxPoints) { start end count min max mean }
    }
  }
`)

export const RecentValuesQuery = graphql(`
  query RecentValues($path: String!, $last: Int!, $before: String) {
    resource(path: $path) {
      id
      lastValue { timestamp number text contentType }
      values(last: $last, before: $before) {
        pageInfo { hasPreviousPage startCursor }
        edges { node { timestamp number text contentType } }
      }
    }
  }
`)

export const ImageValueQuery = graphql(`
  query ImageValue($path: String!) {
    resource(path: $path) { id lastValue { timestamp contentType thumbnailBase64(size: 640) } }
  }
`)

export const UpdateSequenceMutation = graphql(`
  mutation UpdateSequence($path: String!, $value: String!) {
    updateSequence(path: $path, value: $value) { timestamp number text }
  }
`)

export const CreateFolderMutation = graphql(`
  mutation CreateFolder($path: String!) { createFolder(path: $path) { id path } }
`)

export const CreateFileMutation = graphql(`
  mutation CreateFile($path: String!, $contentBase64: String, $contentType: String) {
    createFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id path }
  }
`)

export const CreateSequenceMutation = graphql(`
  mutation CreateSequence($input: CreateSequenceInput!) { createSequence(input: $input) { id path } }
`)

export const CreateControllerMutation = graphql(`
  mutation CreateController($path: String!) { createController(path: $path) { id path } }
`)

export const RenameMutation = graphql(`
  mutation Rename($path: String!, $name: String!) { renameResource(path: $path, name: $name) { id name path } }
`)

export const MoveMutation = graphql(`
  mutation Move($path: String!, $newParent: String!) { moveResource(path: $path, newParent: $newParent) { id name path } }
`)

export const DeleteMutation = graphql(`
  mutation Delete($path: String!) { deleteResource(path: $path) }
`)

export const SequenceSettingsMutation = graphql(`
  mutation SequenceSettings($path: String!, $sequence: SequenceSettingsInput!) {
    updateResourceAttributes(path: $path, sequence: $sequence) {
      id
      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }
    }
  }
`)

export const RevisionsQuery = graphql(`
  query Revisions($path: String!, $first: Int = 50, $after: String) {
    resource(path: $path) {
      id
      url
      revisions(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { id timestamp size sha256 contentType url author { id email fullName } } }
      }
    }
  }
`)

export const WriteFileMutation = graphql(`
  mutation WriteFile($path: String!, $contentBase64: String!, $contentType: String) {
    writeFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id timestamp size }
  }
`)

export const MessagesQuery = graphql(`
  query Messages($path: String!, $types: [String!], $first: Int = 100, $after: String) {
    resource(path: $path) {
      id
      messages(types: $types, first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { id type parameters timestamp senderUser { id email } senderController { id path } } }
      }
    }
  }
`)

export const FolderMessagesSubscription = graphql(`
  subscription FolderMessages($path: String!, $types: [String!]) {
    folderMessages(path: $path, types: $types) {
      id type parameters timestamp senderUser { id email } senderController { id path }
    }
  }
`)

export const SendMessageMutation = graphql(`
  mutation SendMessage($path: String!, $type: String!, $parameters: JSON) {
    sendMessage(path: $path, type: $type, parameters: $parameters) { id type parameters timestamp }
  }
`)

export const KeysQuery = graphql(`
  query Keys {
    keys {
      id name prefix createdAt revokedAt lastUsedAt
      organization { id name }
      asUser { id email }
      asController { id path }
    }
  }
`)

export const CreateKeyMutation = graphql(`
  mutation CreateKey($input: CreateKeyInput!) {
    createKey(input: $input) { secret key { id name prefix createdAt revokedAt } }
  }
`)

export const RevokeKeyMutation = graphql(`
  mutation RevokeKey($id: ID!) { revokeKey(id: $id) { id revokedAt } }
`)

export const ControllersQuery = graphql(`
  query Controllers($path: String!) {
    resource(path: $path) {
      id
      # Complexity weighs each field by the descendants cap: only what finds controllers.
      descendants(depth: 6) { id path type }
    }
  }
`)

export const ControllerLogQuery = graphql(`
  query ControllerLog($path: String!, $last: Int!) {
    resource(path: $path) {
      id
      values(last: $last) { edges { node { timestamp number text } } }
    }
  }
`)

export const ControllerQuery = graphql(`
  query Controller($path: String!) {
    resource(path: $path) {
      id
      controller { online clientVersion lastConnectAt lastWatchdogAt watchdogMinutes }
    }
  }
`)

export const WatchdogQuery = graphql(`
  query Watchdog($path: String!) {
    resource(path: $path) { id controller { watchdogMinutes watchdogRecipients } }
  }
`)

export const SetWatchdogMutation = graphql(`
  mutation SetWatchdog($path: String!, $minutes: Int!, $recipients: [String!]!) {
    setWatchdog(path: $path, minutes: $minutes, recipients: $recipients) {
      id controller { watchdogMinutes watchdogRecipients }
    }
  }
`)

export const OrganizationQuery = graphql(`
  query Organization($name: String!) {
    organization(name: $name) {
      id name fullName folderPath
      members { id isAdmin user { id email fullName } }
    }
  }
`)

export const AddMemberMutation = graphql(`
  mutation AddMember($organization: String!, $email: String!, $admin: Boolean) {
    addMember(organization: $organization, email: $email, admin: $admin) { id isAdmin }
  }
`)

export const SetMemberAdminMutation = graphql(`
  mutation SetMemberAdmin($organization: String!, $email: String!, $admin: Boolean!) {
    setMemberAdmin(organization: $organization, email: $email, admin: $admin) { id isAdmin }
  }
`)

export const RemoveMemberMutation = graphql(`
  mutation RemoveMember($organization: String!, $email: String!) {
    removeMember(organization: $organization, email: $email)
  }
`)

export const PermissionsQuery = graphql(`
  query Permissions($path: String!) {
    resource(path: $path) {
      id path access
      permissions { id granteeType level user { id email } organization { id name } }
    }
  }
`)

export const GrantMutation = graphql(`
  mutation Grant($path: String!, $grantee: GranteeInput!, $level: AccessLevel!) {
    grantPermission(path: $path, grantee: $grantee, level: $level) { id }
  }
`)

export const RevokePermissionMutation = graphql(`
  mutation RevokePermission($id: ID!) { revokePermission(id: $id) }
`)

export const AdminQuery = graphql(`
  query Admin {
    organizations { id name fullName folderPath members { id } }
  }

`)

export const UsersQuery = graphql(`
  query Users($first: Int = 200, $after: String) {
    users(first: $first, after: $after) {
      edges { node { id email userName fullName systemAdmin createdAt lastLogin } }
      pageInfo { hasNextPage endCursor }
    }
  }
`)

export const SourceHealthQuery = graphql(`
  query SourceHealth {
    sourceHealth {
      source ok checkedAt latencyMs error
      formats { format ok records bytes latencyMs error }
    }
  }
`)

export const CreateUserMutation = graphql(`
  mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id email } }
`)

export const CreateOrganizationMutation = graphql(`
  mutation CreateOrganization($name: String!, $fullName: String) {
    createOrganization(name: $name, fullName: $fullName) { id name }
  }
`)

export const RecentQuery = graphql(`
  query Recent($first: Int) {
    recentResources(first: $first) { id name path type updatedAt lastRevisionAt }
  }
`)
